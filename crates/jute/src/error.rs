//! ZooKeeper's error codes (`KeeperException.Code`), by number.

macro_rules! codes {
    ($($name:ident = $num:expr;)*) => {
        /// An error code as it travels in a reply header or a multi result.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub enum ErrorCode { $($name),* }

        impl ErrorCode {
            pub fn from_i32(n: i32) -> Option<ErrorCode> {
                match n { $($num => Some(ErrorCode::$name),)* _ => None }
            }

            pub fn as_i32(self) -> i32 {
                match self { $(ErrorCode::$name => $num),* }
            }
        }
    };
}

codes! {
    Ok = 0;
    SystemError = -1;
    RuntimeInconsistency = -2;
    DataInconsistency = -3;
    ConnectionLoss = -4;
    MarshallingError = -5;
    Unimplemented = -6;
    OperationTimeout = -7;
    BadArguments = -8;
    UnknownSession = -12;
    NewConfigNoQuorum = -13;
    ReconfigInProgress = -14;
    ApiError = -100;
    NoNode = -101;
    NoAuth = -102;
    BadVersion = -103;
    NoChildrenForEphemerals = -108;
    NodeExists = -110;
    NotEmpty = -111;
    SessionExpired = -112;
    InvalidCallback = -113;
    InvalidAcl = -114;
    AuthFailed = -115;
    SessionMoved = -118;
    NotReadOnly = -119;
    EphemeralOnLocalSession = -120;
    NoWatcher = -121;
    RequestTimeout = -122;
    ReconfigDisabled = -123;
    SessionClosedRequireSaslAuth = -124;
    QuotaExceeded = -125;
    ThrottledOp = -127;
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?} ({})", self, self.as_i32())
    }
}

impl std::error::Error for ErrorCode {}
