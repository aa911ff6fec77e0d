//! One module per event type (or small family). Each parses from the event
//! body (after the common header, without the checksum) and borrows from it
//! where it can. [`Event::decode`] dispatches on the type code.

pub mod compressed;
pub mod group_replication;
pub mod gtid;
pub mod heartbeat;
pub mod incident;
pub mod intvar;
pub mod load;
pub mod mariadb;
pub mod payload;
pub mod query;
pub mod rotate;
pub mod rows;
pub mod rows_query;
pub mod start;
pub mod table_map;
pub mod user_var;
pub mod xid;

use std::sync::Arc;

use crate::error::BodyError;
use crate::fde::FormatDescription;
use crate::header::event_type as et;

pub use group_replication::{TransactionContextEvent, ViewChangeEvent};
pub use gtid::{GtidEvent, GtidKind, GtidSetEntry, PreviousGtidsEvent};
pub use heartbeat::HeartbeatEvent;
pub use incident::IncidentEvent;
pub use intvar::{IntVarEvent, IntVarKind, RandEvent};
pub use load::{AppendBlockEvent, FileIdEvent, LoadEvent, SqlEx};
pub use mariadb::{
    BinlogCheckpointEvent, GtidListEvent, MariaGtid, MariaGtidEvent, StartEncryptionEvent,
};
pub use payload::{PayloadCompression, TransactionPayloadEvent};
pub use query::{ExecuteLoadQueryEvent, QueryEvent, StatusVars};
pub use rotate::RotateEvent;
pub use rows::RowsEvent;
pub use rows_query::RowsQueryEvent;
pub use start::StartV3Event;
pub use table_map::TableMap;
pub use user_var::{UserVarEvent, UserVarValue};
pub use xid::{XaPrepareEvent, XaXid, XidEvent};

/// A decoded event. Variants borrow from the event's bytes.
#[derive(Debug, Clone, PartialEq)]
pub enum Event<'a> {
    StartV3(StartV3Event<'a>),
    FormatDescription(FormatDescription),
    Query(Box<QueryEvent<'a>>),
    Stop,
    Rotate(RotateEvent<'a>),
    IntVar(IntVarEvent),
    /// LOAD and NEW_LOAD.
    Load(Box<LoadEvent<'a>>),
    CreateFile(Box<LoadEvent<'a>>),
    AppendBlock(AppendBlockEvent<'a>),
    ExecLoad(FileIdEvent),
    DeleteFile(FileIdEvent),
    Rand(RandEvent),
    UserVar(UserVarEvent<'a>),
    Xid(XidEvent),
    BeginLoadQuery(AppendBlockEvent<'a>),
    ExecuteLoadQuery(Box<ExecuteLoadQueryEvent<'a>>),
    TableMap(Arc<TableMap>),
    /// Every rows event: pre-GA, v1, v2, PARTIAL_UPDATE and MariaDB's
    /// compressed ones (after decompression).
    Rows(RowsEvent<'a>),
    Incident(IncidentEvent<'a>),
    /// HEARTBEAT and HEARTBEAT_V2.
    Heartbeat(HeartbeatEvent<'a>),
    RowsQuery(RowsQueryEvent<'a>),
    /// GTID, ANONYMOUS_GTID and GTID_TAGGED (see [`GtidEvent::kind`]).
    Gtid(Box<GtidEvent<'a>>),
    PreviousGtids(PreviousGtidsEvent<'a>),
    TransactionContext(TransactionContextEvent<'a>),
    ViewChange(ViewChangeEvent<'a>),
    XaPrepare(XaPrepareEvent<'a>),
    TransactionPayload(TransactionPayloadEvent<'a>),
    AnnotateRows(RowsQueryEvent<'a>),
    BinlogCheckpoint(BinlogCheckpointEvent<'a>),
    MariaGtid(MariaGtidEvent<'a>),
    MariaGtidList(GtidListEvent),
    StartEncryption(StartEncryptionEvent),
    /// An event the server marked ignorable (LOG_EVENT_IGNORABLE_F) whose
    /// type this decoder does not know, IGNORABLE_LOG_EVENT itself, and
    /// Aurora's padding: nothing to decode, safe to skip.
    Ignored {
        type_code: u8,
    },
}

/// True if [`Event::decode`] knows the (normalized) type code.
pub fn is_known_type(type_code: u8) -> bool {
    matches!(type_code, et::START_V3..=et::GTID_TAGGED if type_code != et::SLAVE)
        || type_code == et::AURORA_PADDING
        || (et::MARIA_ANNOTATE_ROWS..=et::MARIA_DELETE_ROWS_COMPRESSED).contains(&type_code)
}

impl<'a> Event<'a> {
    /// Decode the body of an event of (normalized) type `type_code`.
    /// MariaDB's compressed types must be decompressed first (see
    /// [`compressed::decompress_body`]); unknown types are an error.
    pub fn decode(
        type_code: u8,
        body: &'a [u8],
        fde: &FormatDescription,
    ) -> Result<Self, BodyError> {
        Ok(match type_code {
            et::START_V3 => Event::StartV3(StartV3Event::parse(body)?),
            et::QUERY => Event::Query(Box::new(QueryEvent::parse(body, fde)?)),
            et::STOP => Event::Stop,
            et::ROTATE => Event::Rotate(RotateEvent::parse(body, fde)?),
            et::INTVAR => Event::IntVar(IntVarEvent::parse(body, fde)?),
            et::LOAD | et::NEW_LOAD => {
                Event::Load(Box::new(LoadEvent::parse(body, type_code, fde)?))
            }
            et::CREATE_FILE => Event::CreateFile(Box::new(LoadEvent::parse(body, type_code, fde)?)),
            et::APPEND_BLOCK => Event::AppendBlock(AppendBlockEvent::parse(body, type_code, fde)?),
            et::EXEC_LOAD => Event::ExecLoad(FileIdEvent::parse(body)?),
            et::DELETE_FILE => Event::DeleteFile(FileIdEvent::parse(body)?),
            et::RAND => Event::Rand(RandEvent::parse(body, fde)?),
            et::USER_VAR => Event::UserVar(UserVarEvent::parse(body, fde)?),
            et::FORMAT_DESCRIPTION => {
                Event::FormatDescription(FormatDescription::parse_with(body, false)?)
            }
            et::XID => Event::Xid(XidEvent::parse(body, fde)?),
            et::BEGIN_LOAD_QUERY => {
                Event::BeginLoadQuery(AppendBlockEvent::parse(body, type_code, fde)?)
            }
            et::EXECUTE_LOAD_QUERY => {
                Event::ExecuteLoadQuery(Box::new(ExecuteLoadQueryEvent::parse(body, fde)?))
            }
            et::TABLE_MAP => Event::TableMap(Arc::new(TableMap::parse(body, fde)?)),
            et::PRE_GA_WRITE_ROWS..=et::DELETE_ROWS_V1
            | et::WRITE_ROWS..=et::DELETE_ROWS
            | et::PARTIAL_UPDATE_ROWS => Event::Rows(RowsEvent::parse(body, type_code, fde)?),
            et::INCIDENT => Event::Incident(IncidentEvent::parse(body, fde)?),
            et::HEARTBEAT => Event::Heartbeat(HeartbeatEvent::parse_v1(body)?),
            et::HEARTBEAT_V2 => Event::Heartbeat(HeartbeatEvent::parse_v2(body)?),
            et::IGNORABLE | et::AURORA_PADDING => Event::Ignored { type_code },
            et::ROWS_QUERY => Event::RowsQuery(RowsQueryEvent::parse_rows_query(body)?),
            et::GTID => Event::Gtid(Box::new(GtidEvent::parse(body, false)?)),
            et::ANONYMOUS_GTID => Event::Gtid(Box::new(GtidEvent::parse(body, true)?)),
            et::GTID_TAGGED => Event::Gtid(Box::new(GtidEvent::parse_tagged(body)?)),
            et::PREVIOUS_GTIDS => Event::PreviousGtids(PreviousGtidsEvent::parse(body)?),
            et::TRANSACTION_CONTEXT => {
                Event::TransactionContext(TransactionContextEvent::parse(body, fde)?)
            }
            et::VIEW_CHANGE => Event::ViewChange(ViewChangeEvent::parse(body, fde)?),
            et::XA_PREPARE => Event::XaPrepare(XaPrepareEvent::parse(body, fde)?),
            et::TRANSACTION_PAYLOAD => {
                Event::TransactionPayload(TransactionPayloadEvent::parse(body)?)
            }
            et::MARIA_ANNOTATE_ROWS => {
                Event::AnnotateRows(RowsQueryEvent::parse_annotate_rows(body)?)
            }
            et::MARIA_BINLOG_CHECKPOINT => {
                Event::BinlogCheckpoint(BinlogCheckpointEvent::parse(body, fde)?)
            }
            et::MARIA_GTID => Event::MariaGtid(MariaGtidEvent::parse(body)?),
            et::MARIA_GTID_LIST => Event::MariaGtidList(GtidListEvent::parse(body)?),
            et::MARIA_START_ENCRYPTION => {
                Event::StartEncryption(StartEncryptionEvent::parse(body)?)
            }
            et::MARIA_QUERY_COMPRESSED..=et::MARIA_DELETE_ROWS_COMPRESSED => {
                return Err(BodyError::Invalid(
                    "compressed event must be decompressed before decoding".into(),
                ))
            }
            other => return Err(BodyError::Invalid(format!("unknown event type {other}"))),
        })
    }
}
