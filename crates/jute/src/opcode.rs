//! Request opcodes, with ZooKeeper's numbers (`ZooDefs.OpCode`).

macro_rules! opcodes {
    ($($name:ident = $num:expr, $label:literal;)*) => {
        /// A request type.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum OpCode { $($name),* }

        impl OpCode {
            pub const ALL: &'static [OpCode] = &[$(OpCode::$name),*];

            pub fn from_i32(n: i32) -> Option<OpCode> {
                match n { $($num => Some(OpCode::$name),)* _ => None }
            }

            pub fn as_i32(self) -> i32 {
                match self { $(OpCode::$name => $num),* }
            }

            /// The name ZooKeeper's logs and metrics use.
            pub fn label(self) -> &'static str {
                match self { $(OpCode::$name => $label),* }
            }
        }
    };
}

opcodes! {
    Notification = 0, "notification";
    Create = 1, "create";
    Delete = 2, "delete";
    Exists = 3, "exists";
    GetData = 4, "getData";
    SetData = 5, "setData";
    GetAcl = 6, "getACL";
    SetAcl = 7, "setACL";
    GetChildren = 8, "getChildren";
    Sync = 9, "sync";
    Ping = 11, "ping";
    GetChildren2 = 12, "getChildren2";
    Check = 13, "check";
    Multi = 14, "multi";
    Create2 = 15, "create2";
    Reconfig = 16, "reconfig";
    CheckWatches = 17, "checkWatches";
    RemoveWatches = 18, "removeWatches";
    CreateContainer = 19, "createContainer";
    DeleteContainer = 20, "deleteContainer";
    CreateTtl = 21, "createTTL";
    MultiRead = 22, "multiRead";
    Auth = 100, "auth";
    SetWatches = 101, "setWatches";
    Sasl = 102, "sasl";
    GetEphemerals = 103, "getEphemerals";
    GetAllChildrenNumber = 104, "getAllChildrenNumber";
    SetWatches2 = 105, "setWatches2";
    AddWatch = 106, "addWatch";
    WhoAmI = 107, "whoAmI";
    CreateSession = -10, "createSession";
    CloseSession = -11, "closeSession";
    Error = -1, "error";
}

impl OpCode {
    /// Requests that change the tree or the session table and so go through the log.
    pub fn is_write(self) -> bool {
        matches!(
            self,
            OpCode::Create
                | OpCode::Create2
                | OpCode::CreateContainer
                | OpCode::CreateTtl
                | OpCode::Delete
                | OpCode::DeleteContainer
                | OpCode::SetData
                | OpCode::SetAcl
                | OpCode::Multi
                | OpCode::Reconfig
                | OpCode::CreateSession
                | OpCode::CloseSession
        )
    }
}

#[cfg(test)]
mod tests {
    use super::OpCode;

    /// Per-opcode tables (the server's metric handles) index by `op as usize`.
    #[test]
    fn as_usize_is_the_place_in_all() {
        for (i, op) in OpCode::ALL.iter().enumerate() {
            assert_eq!(*op as usize, i, "{op:?}");
        }
    }
}
