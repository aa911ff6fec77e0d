//! Schema history: what each table looked like at every binlog position.
//!
//! A TABLE_MAP only carries column types unless the server logs full
//! metadata (`binlog_row_metadata=FULL`); names, signedness, charsets,
//! ENUM/SET labels and the primary key must come from elsewhere — and from
//! the schema *of the event's time*, or rows older than the last ALTER
//! decode with today's columns. The history starts from an
//! information_schema snapshot and applies each DDL statement from QUERY
//! events (parsed with `sqlparser`'s MySQL dialect) as a new version keyed
//! by the position just past the DDL. The caller persists it
//! ([`SchemaHistory::to_json`]) next to the saved position.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use binlog::column::{column_type as ct, LogicalType};
use binlog::events::table_map::{ColumnSchema, TableMap};
use binlog::stream::TableIdMap;
use serde::{Deserialize, Serialize};
use sqlparser::ast::{
    AlterTableOperation, ColumnOption, CreateTableLikeKind, DataType, EnumMember,
    MySQLColumnPosition, ObjectName, ObjectNamePart, ObjectType, RenameTableNameKind, Statement,
    TableConstraint,
};
use sqlparser::dialect::MySqlDialect;
use sqlparser::parser::Parser;

use crate::config::SourceConfig;
use crate::error::SourceError;
use crate::position::Position;
use crate::server;

/// One column as the schema knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnInfo {
    pub name: String,
    /// Lower-case base type, e.g. `int`, `varchar`, `enum`, `uuid`.
    pub data_type: String,
    #[serde(default)]
    pub unsigned: bool,
    /// Collation id (63 = binary) for character and binary columns.
    #[serde(default)]
    pub collation: Option<u16>,
    #[serde(default)]
    pub enum_values: Option<Vec<String>>,
    #[serde(default)]
    pub set_values: Option<Vec<String>>,
    #[serde(default)]
    pub primary_key: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableSchema {
    pub columns: Vec<ColumnInfo>,
}

/// Where a version came from, which decides how much to trust it for
/// events older than itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// information_schema at `since`: also the best guess for earlier events.
    Snapshot,
    /// A DDL statement logged just before `since`.
    Ddl,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableVersion {
    /// Position from which this version holds (the end of its DDL event).
    pub since: Position,
    pub origin: Origin,
    /// `None`: the table does not exist (dropped, renamed away) or its
    /// columns are unknown (a DDL we could not follow).
    pub schema: Option<TableSchema>,
}

/// How sure a lookup is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup<'a> {
    /// The version in force at the position.
    Certain(&'a TableSchema),
    /// Only a later snapshot is known: the table may have changed since.
    Guess(&'a TableSchema),
    Unknown,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaHistory {
    /// database -> table -> versions, oldest first.
    tables: BTreeMap<String, BTreeMap<String, Vec<TableVersion>>>,
    /// Collation name -> id.
    collations: BTreeMap<String, u16>,
    /// Charset name -> its default collation name.
    charset_default: BTreeMap<String, String>,
    /// Database -> default collation name.
    database_default: BTreeMap<String, String>,
    server_default: Option<String>,
    /// DDL that could not be followed, and guesses that did not fit.
    #[serde(skip)]
    pub warnings: Warnings,
}

/// Warnings of a [`SchemaHistory`]: a count of all, and the last
/// [`Warnings::KEEP`] texts. A long-running stream may warn on every table
/// map of a table it cannot name; keeping them all would grow without
/// bound.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Warnings {
    total: usize,
    recent: VecDeque<String>,
}

impl Warnings {
    /// How many texts are kept.
    pub const KEEP: usize = 100;

    pub fn push(&mut self, warning: String) {
        if self.recent.len() == Self::KEEP {
            self.recent.pop_front();
        }
        self.recent.push_back(warning);
        self.total += 1;
    }

    /// Warnings ever pushed (including those no longer kept).
    pub fn total(&self) -> usize {
        self.total
    }

    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// The kept texts, oldest first.
    pub fn recent(&self) -> impl Iterator<Item = &str> {
        self.recent.iter().map(String::as_str)
    }

    /// The kept warnings pushed after the first `seen` (a count from
    /// [`Warnings::total`] read earlier), and how many of those newer ones
    /// were already dropped.
    pub fn since(&self, seen: usize) -> (usize, impl Iterator<Item = &str>) {
        let first_kept = self.total - self.recent.len();
        let dropped = first_kept.saturating_sub(seen);
        let skip = seen.saturating_sub(first_kept);
        (dropped, self.recent.iter().skip(skip).map(String::as_str))
    }
}

impl SchemaHistory {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn from_json(text: &str) -> Result<Self, String> {
        serde_json::from_str(text).map_err(|e| format!("bad schema history: {e}"))
    }

    /// Add every table the history does not know yet, as it is now in
    /// information_schema, valid from `at`.
    pub async fn snapshot(
        &mut self,
        conn: &mut mysql_async::Conn,
        cfg: &SourceConfig,
        at: &Position,
    ) -> Result<(), SourceError> {
        for row in server::query(
            conn,
            cfg,
            "SELECT COLLATION_NAME, CHARACTER_SET_NAME, ID, IS_DEFAULT FROM information_schema.COLLATIONS",
        )
        .await?
        {
            let (Some(name), Some(cs), Some(id)) = (cell(&row, 0), cell(&row, 1), cell(&row, 2)) else {
                continue;
            };
            if let Ok(id) = id.parse() {
                self.collations.insert(name.to_ascii_lowercase(), id);
            }
            if cell(&row, 3).is_some_and(|d| d.eq_ignore_ascii_case("yes")) {
                self.charset_default
                    .insert(cs.to_ascii_lowercase(), name.to_ascii_lowercase());
            }
        }
        for row in server::query(
            conn,
            cfg,
            "SELECT SCHEMA_NAME, DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA",
        )
        .await?
        {
            if let (Some(db), Some(coll)) = (cell(&row, 0), cell(&row, 1)) {
                self.database_default
                    .entry(db)
                    .or_insert(coll.to_ascii_lowercase());
            }
        }
        if self.server_default.is_none() {
            self.server_default = server::query_value(conn, cfg, "SELECT @@collation_server")
                .await?
                .map(|s| s.to_ascii_lowercase());
        }
        let rows = server::query(
            conn,
            cfg,
            "SELECT c.TABLE_SCHEMA, c.TABLE_NAME, c.COLUMN_NAME, c.DATA_TYPE, c.COLUMN_TYPE, \
                    c.COLLATION_NAME, c.COLUMN_KEY \
             FROM information_schema.COLUMNS c JOIN information_schema.TABLES t \
               ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME \
             WHERE t.TABLE_TYPE = 'BASE TABLE' \
               AND c.TABLE_SCHEMA NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys') \
             ORDER BY c.TABLE_SCHEMA, c.TABLE_NAME, c.ORDINAL_POSITION",
        )
        .await?;
        let mut found: BTreeMap<(String, String), Vec<ColumnInfo>> = BTreeMap::new();
        for row in rows {
            let (Some(db), Some(table), Some(name), Some(data_type), Some(column_type)) = (
                cell(&row, 0),
                cell(&row, 1),
                cell(&row, 2),
                cell(&row, 3),
                cell(&row, 4),
            ) else {
                continue;
            };
            let data_type = data_type.to_ascii_lowercase();
            let lower_type = column_type.to_ascii_lowercase();
            let collation = match cell(&row, 5) {
                Some(c) => self.collations.get(&c.to_ascii_lowercase()).copied(),
                None if is_binary_type(&data_type) => Some(binlog::column::BINARY_CHARSET),
                None => None,
            };
            let labels = || parse_quoted_list(&column_type);
            found.entry((db, table)).or_default().push(ColumnInfo {
                name,
                unsigned: lower_type.contains(" unsigned"),
                collation,
                enum_values: (data_type == "enum").then(labels),
                set_values: (data_type == "set").then(labels),
                primary_key: cell(&row, 6).is_some_and(|k| k == "PRI"),
                data_type,
            });
        }
        for ((db, table), columns) in found {
            let versions = self.tables.entry(db).or_default().entry(table).or_default();
            if versions.is_empty() {
                versions.push(TableVersion {
                    since: bare(at),
                    origin: Origin::Snapshot,
                    schema: Some(TableSchema { columns }),
                });
            }
        }
        Ok(())
    }

    /// Put a table's schema in directly (tests, or a caller's own source).
    pub fn insert(
        &mut self,
        db: &str,
        table: &str,
        since: &Position,
        origin: Origin,
        schema: Option<TableSchema>,
    ) {
        let versions = self
            .tables
            .entry(db.to_string())
            .or_default()
            .entry(table.to_string())
            .or_default();
        let since = bare(since);
        let at = versions
            .iter()
            .position(|v| v.since.cmp_file_pos(&since).is_gt())
            .unwrap_or(versions.len());
        versions.insert(
            at,
            TableVersion {
                since,
                origin,
                schema,
            },
        );
    }

    /// All versions of a table, oldest first.
    pub fn versions(&self, db: &str, table: &str) -> &[TableVersion] {
        self.tables
            .get(db)
            .and_then(|t| t.get(table))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// The table as it was at `at`.
    pub fn table_at(&self, db: &str, table: &str, at: &Position) -> Lookup<'_> {
        let versions = self.versions(db, table);
        match versions
            .iter()
            .rev()
            .find(|v| v.since.cmp_file_pos(at).is_le())
        {
            Some(v) => match &v.schema {
                Some(s) => Lookup::Certain(s),
                None => Lookup::Unknown,
            },
            None => match versions.first() {
                Some(TableVersion {
                    origin: Origin::Snapshot,
                    schema: Some(s),
                    ..
                }) => Lookup::Guess(s),
                _ => Lookup::Unknown,
            },
        }
    }

    fn latest(&self, db: &str, table: &str) -> Option<&TableVersion> {
        self.versions(db, table).last()
    }

    /// Apply a DDL statement logged in a QUERY event whose end is `at`,
    /// with `default_db` the session's database. DDL the history already
    /// reflects (a replay after a restart from an older position) is
    /// skipped.
    pub fn apply_ddl(&mut self, default_db: &str, sql: &str, at: &Position) {
        // Account management, SET, FLUSH, ANALYZE, views, routines…: the
        // binlog carries them as QUERY events too, but they cannot change
        // a table's columns, and many are beyond sqlparser (MariaDB's
        // `IDENTIFIED VIA`, `GRANT … ON *.*`): not worth a warning.
        if !may_change_tables(sql) {
            return;
        }
        let statements = match Parser::parse_sql(&MySqlDialect {}, sql) {
            Ok(s) => s,
            Err(e) => {
                self.unparsed(default_db, sql, at, &e.to_string());
                return;
            }
        };
        for statement in statements {
            self.apply_statement(default_db, &statement, sql, at);
        }
    }

    fn apply_statement(
        &mut self,
        default_db: &str,
        statement: &Statement,
        sql: &str,
        at: &Position,
    ) {
        match statement {
            Statement::CreateTable(ct) => {
                if ct.temporary {
                    return;
                }
                let (db, table) = split_name(&ct.name, default_db);
                if self.already_applied(&db, &table, at) {
                    return;
                }
                let schema = if let Some(like) = &ct.like {
                    let source = match like {
                        CreateTableLikeKind::Parenthesized(l) | CreateTableLikeKind::Plain(l) => {
                            &l.name
                        }
                    };
                    let (sdb, stable) = split_name(source, default_db);
                    self.latest(&sdb, &stable).and_then(|v| v.schema.clone())
                } else if ct.query.is_some() && ct.columns.is_empty() {
                    self.warnings.push(format!(
                        "{}: CREATE TABLE … SELECT: the columns of {db}.{table} are unknown until a table map with metadata arrives",
                        at.file_pos()
                    ));
                    None
                } else {
                    let table_coll = table_collation(&ct.table_options.to_string());
                    let mut columns: Vec<ColumnInfo> = ct
                        .columns
                        .iter()
                        .map(|c| {
                            self.column_info(
                                &c.name.value,
                                &c.data_type,
                                &option_list(&c.options),
                                table_coll.as_deref(),
                                &db,
                            )
                        })
                        .collect();
                    for constraint in &ct.constraints {
                        if let TableConstraint::PrimaryKey(pk) = constraint {
                            mark_primary(
                                &mut columns,
                                pk.columns.iter().map(|c| c.column.expr.to_string()),
                            );
                        }
                    }
                    Some(TableSchema { columns })
                };
                if ct.if_not_exists && self.latest(&db, &table).is_some_and(|v| v.schema.is_some())
                {
                    return;
                }
                self.insert(&db, &table, at, Origin::Ddl, schema);
            }
            Statement::AlterTable(alter) => {
                let (mut db, mut table) = split_name(&alter.name, default_db);
                if self.already_applied(&db, &table, at) {
                    return;
                }
                let Some(mut schema) = self.latest(&db, &table).and_then(|v| v.schema.clone())
                else {
                    self.warnings.push(format!(
                        "{}: ALTER of {db}.{table}, whose columns are unknown",
                        at.file_pos()
                    ));
                    return;
                };
                let mut followed = true;
                let mut why = "the statement changes column charsets";
                for op in &alter.operations {
                    match op {
                        // MariaDB's `ADD SYSTEM VERSIONING` (hidden row_start/
                        // row_end columns) reads as a column `SYSTEM` of type
                        // `VERSIONING` to the MySQL dialect.
                        AlterTableOperation::AddColumn { column_def, .. }
                            if column_def.name.quote_style.is_none()
                                && column_def.name.value.eq_ignore_ascii_case("SYSTEM")
                                && column_def
                                    .data_type
                                    .to_string()
                                    .eq_ignore_ascii_case("VERSIONING") =>
                        {
                            followed = false;
                            why = "system versioning is not followed";
                        }
                        AlterTableOperation::AddColumn {
                            column_def,
                            column_position,
                            ..
                        } => {
                            let col = self.column_info(
                                &column_def.name.value,
                                &column_def.data_type,
                                &option_list(&column_def.options),
                                None,
                                &db,
                            );
                            place(&mut schema.columns, col, column_position.as_ref(), None);
                        }
                        AlterTableOperation::DropColumn { column_names, .. } => {
                            for name in column_names {
                                schema
                                    .columns
                                    .retain(|c| !c.name.eq_ignore_ascii_case(&name.value));
                            }
                        }
                        AlterTableOperation::ModifyColumn {
                            col_name,
                            data_type,
                            options,
                            column_position,
                        } => {
                            let mut col =
                                self.column_info(&col_name.value, data_type, options, None, &db);
                            let old = find_col(&schema.columns, &col_name.value);
                            col.primary_key |= old.is_some_and(|i| schema.columns[i].primary_key);
                            place(&mut schema.columns, col, column_position.as_ref(), old);
                        }
                        AlterTableOperation::ChangeColumn {
                            old_name,
                            new_name,
                            data_type,
                            options,
                            column_position,
                        } => {
                            let mut col =
                                self.column_info(&new_name.value, data_type, options, None, &db);
                            let old = find_col(&schema.columns, &old_name.value);
                            col.primary_key |= old.is_some_and(|i| schema.columns[i].primary_key);
                            place(&mut schema.columns, col, column_position.as_ref(), old);
                        }
                        AlterTableOperation::RenameColumn {
                            old_column_name,
                            new_column_name,
                        } => {
                            if let Some(i) = find_col(&schema.columns, &old_column_name.value) {
                                schema.columns[i].name = new_column_name.value.clone();
                            }
                        }
                        AlterTableOperation::RenameTable { table_name } => {
                            let new = match table_name {
                                RenameTableNameKind::As(n) | RenameTableNameKind::To(n) => n,
                            };
                            let (ndb, ntable) = split_name(new, &db);
                            self.insert(&db, &table, at, Origin::Ddl, None);
                            db = ndb;
                            table = ntable;
                        }
                        AlterTableOperation::AddConstraint {
                            constraint: TableConstraint::PrimaryKey(pk),
                            ..
                        } => mark_primary(
                            &mut schema.columns,
                            pk.columns.iter().map(|c| c.column.expr.to_string()),
                        ),
                        AlterTableOperation::DropPrimaryKey { .. } => {
                            for c in &mut schema.columns {
                                c.primary_key = false;
                            }
                        }
                        // Defaults, indexes, constraints, options: no change to the row layout.
                        AlterTableOperation::AddConstraint { .. }
                        | AlterTableOperation::DropConstraint { .. }
                        | AlterTableOperation::DropIndex { .. }
                        | AlterTableOperation::DropForeignKey { .. }
                        | AlterTableOperation::AlterColumn { .. }
                        | AlterTableOperation::RenameConstraint { .. }
                        | AlterTableOperation::Algorithm { .. }
                        | AlterTableOperation::Lock { .. } => {}
                        other => {
                            let text = other.to_string();
                            let upper = text.to_ascii_uppercase();
                            // Table options (ENGINE=, COMMENT=, AUTO_INCREMENT=…) keep the layout;
                            // a charset conversion does not.
                            if upper.contains("CONVERT")
                                || upper.contains("CHARACTER SET")
                                || upper.contains("CHARSET")
                            {
                                followed = false;
                            }
                        }
                    }
                }
                if !followed {
                    self.unparsed(&db, sql, at, why);
                    return;
                }
                self.insert(&db, &table, at, Origin::Ddl, Some(schema));
            }
            Statement::Drop {
                object_type, names, ..
            } => match object_type {
                ObjectType::Table => {
                    for name in names {
                        let (db, table) = split_name(name, default_db);
                        if self.latest(&db, &table).is_some()
                            && !self.already_applied(&db, &table, at)
                        {
                            self.insert(&db, &table, at, Origin::Ddl, None);
                        }
                    }
                }
                ObjectType::Schema | ObjectType::Database => {
                    for name in names {
                        let db = name.to_string().trim_matches('`').to_string();
                        let tables: Vec<String> = self
                            .tables
                            .get(&db)
                            .map(|t| t.keys().cloned().collect())
                            .unwrap_or_default();
                        for table in tables {
                            if !self.already_applied(&db, &table, at) {
                                self.insert(&db, &table, at, Origin::Ddl, None);
                            }
                        }
                    }
                }
                _ => {}
            },
            Statement::RenameTable(renames) => {
                for r in renames {
                    let (odb, otable) = split_name(&r.old_name, default_db);
                    let (ndb, ntable) = split_name(&r.new_name, default_db);
                    if self.already_applied(&ndb, &ntable, at) {
                        continue;
                    }
                    let schema = self.latest(&odb, &otable).and_then(|v| v.schema.clone());
                    self.insert(&odb, &otable, at, Origin::Ddl, None);
                    self.insert(&ndb, &ntable, at, Origin::Ddl, schema);
                }
            }
            // TRUNCATE and everything else keep every table's columns.
            _ => {}
        }
    }

    /// The history already holds a version at or after `at` for the table.
    fn already_applied(&self, db: &str, table: &str, at: &Position) -> bool {
        self.latest(db, table)
            .is_some_and(|v| v.since.cmp_file_pos(at).is_ge())
    }

    /// A DDL we could not follow: if it names a table, that table's columns
    /// become unknown from here on (decoding then relies on the table map).
    fn unparsed(&mut self, default_db: &str, sql: &str, at: &Position, why: &str) {
        let target = ddl_target(sql);
        self.warnings.push(format!(
            "{}: cannot follow DDL ({why}): {}",
            at.file_pos(),
            sql.chars().take(200).collect::<String>()
        ));
        if let Some((db, table)) = target {
            let db = db.unwrap_or_else(|| default_db.to_string());
            if !self.already_applied(&db, &table, at) {
                self.insert(&db, &table, at, Origin::Ddl, None);
            }
        }
    }

    fn column_info(
        &self,
        name: &str,
        data_type: &DataType,
        options: &[ColumnOption],
        table_collation: Option<&str>,
        db: &str,
    ) -> ColumnInfo {
        let text = data_type.to_string();
        let upper = text.to_ascii_uppercase();
        let base = upper
            .split(|c: char| c == '(' || c.is_whitespace())
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        let base = match base.as_str() {
            "integer" => "int".to_string(),
            "bool" | "boolean" => "tinyint".to_string(),
            "real" => "double".to_string(),
            "dec" | "numeric" | "fixed" => "decimal".to_string(),
            "character" => "char".to_string(),
            _ => base,
        };
        let mut column_charset = None;
        let mut column_collation = None;
        let mut primary_key = false;
        for o in options {
            match o {
                ColumnOption::CharacterSet(n) => {
                    column_charset = Some(n.to_string().to_ascii_lowercase())
                }
                ColumnOption::Collation(n) => {
                    column_collation = Some(n.to_string().to_ascii_lowercase())
                }
                ColumnOption::PrimaryKey(_) => primary_key = true,
                _ => {}
            }
        }
        if let Some(cs) =
            word_after(&upper, "CHARACTER SET").or_else(|| word_after(&upper, "CHARSET"))
        {
            column_charset.get_or_insert(cs.to_ascii_lowercase());
        }
        if let Some(c) = word_after(&upper, "COLLATE") {
            column_collation.get_or_insert(c.to_ascii_lowercase());
        }
        let collation = if is_binary_type(&base) {
            Some(binlog::column::BINARY_CHARSET)
        } else if is_text_type(&base) {
            let name = column_collation
                .or_else(|| column_charset.and_then(|cs| self.charset_default.get(&cs).cloned()))
                .or_else(|| table_collation.map(str::to_string))
                .or_else(|| self.database_default.get(db).cloned())
                .or_else(|| self.server_default.clone());
            name.and_then(|n| self.collations.get(&n).copied())
        } else {
            None
        };
        let (enum_values, set_values) = match data_type {
            DataType::Enum(members, _) => (
                Some(
                    members
                        .iter()
                        .map(|m| match m {
                            EnumMember::Name(s) | EnumMember::NamedValue(s, _) => s.clone(),
                        })
                        .collect(),
                ),
                None,
            ),
            DataType::Set(labels) => (None, Some(labels.clone())),
            _ => (None, None),
        };
        ColumnInfo {
            name: name.to_string(),
            data_type: base,
            unsigned: upper.contains("UNSIGNED"),
            collation,
            enum_values,
            set_values,
            primary_key,
        }
    }
}

impl Position {
    fn file_pos(&self) -> String {
        format!("{}:{}", self.file, self.pos)
    }
}

/// The position without its GTID state (versions are keyed by file+offset).
fn bare(p: &Position) -> Position {
    Position::new(p.file.clone(), p.pos)
}

fn cell(row: &[Option<String>], i: usize) -> Option<String> {
    row.get(i).cloned().flatten()
}

fn option_list(options: &[sqlparser::ast::ColumnOptionDef]) -> Vec<ColumnOption> {
    options.iter().map(|o| o.option.clone()).collect()
}

fn find_col(columns: &[ColumnInfo], name: &str) -> Option<usize> {
    columns
        .iter()
        .position(|c| c.name.eq_ignore_ascii_case(name))
}

/// Put `col` where the statement says: replacing index `old` (MODIFY/CHANGE)
/// unless moved, FIRST, AFTER x, or at the end.
fn place(
    columns: &mut Vec<ColumnInfo>,
    col: ColumnInfo,
    position: Option<&MySQLColumnPosition>,
    old: Option<usize>,
) {
    match (position, old) {
        (None, Some(i)) => columns[i] = col,
        (position, old) => {
            if let Some(i) = old {
                columns.remove(i);
            }
            let at = match position {
                Some(MySQLColumnPosition::First) => 0,
                Some(MySQLColumnPosition::After(name)) => {
                    find_col(columns, &name.value).map_or(columns.len(), |i| i + 1)
                }
                None => columns.len(),
            };
            columns.insert(at, col);
        }
    }
}

fn mark_primary(columns: &mut [ColumnInfo], names: impl Iterator<Item = String>) {
    for c in columns.iter_mut() {
        c.primary_key = false;
    }
    for name in names {
        let name = name.trim_matches('`');
        // `PRIMARY KEY (c(10))` indexes a prefix of c.
        let name = name.split('(').next().unwrap_or(name);
        if let Some(i) = find_col(columns, name) {
            columns[i].primary_key = true;
        }
    }
}

/// `db.table` or `table` (in `default_db`), unquoted.
fn split_name(name: &ObjectName, default_db: &str) -> (String, String) {
    let parts: Vec<String> = name
        .0
        .iter()
        .map(|p| match p {
            ObjectNamePart::Identifier(i) => i.value.clone(),
            other => other.to_string(),
        })
        .collect();
    match parts.as_slice() {
        [db, table] => (db.clone(), table.clone()),
        [.., table] => (default_db.to_string(), table.clone()),
        [] => (default_db.to_string(), String::new()),
    }
}

/// The table default collation from `DEFAULT CHARSET=x COLLATE=y` options.
fn table_collation(options: &str) -> Option<String> {
    let upper = options.to_ascii_uppercase();
    if let Some(c) = word_after(&upper, "COLLATE") {
        return Some(c.to_ascii_lowercase());
    }
    let _ = word_after(&upper, "CHARSET").or_else(|| word_after(&upper, "CHARACTER SET"))?;
    None
}

/// The word after `key` (skipping `=` and spaces).
fn word_after(text: &str, key: &str) -> Option<String> {
    let at = text.find(key)? + key.len();
    let rest = text[at..].trim_start().trim_start_matches('=').trim_start();
    let word: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    (!word.is_empty()).then_some(word)
}

fn is_binary_type(t: &str) -> bool {
    matches!(
        t,
        "binary" | "varbinary" | "tinyblob" | "blob" | "mediumblob" | "longblob"
    )
}

fn is_text_type(t: &str) -> bool {
    matches!(
        t,
        "char"
            | "varchar"
            | "tinytext"
            | "text"
            | "mediumtext"
            | "longtext"
            | "enum"
            | "set"
            | "long"
            | "json"
    )
}

/// Labels of `enum('a','b''c')` / `set(...)` as information_schema shows them.
pub fn parse_quoted_list(column_type: &str) -> Vec<String> {
    let mut out = Vec::new();
    let Some(open) = column_type.find('(') else {
        return out;
    };
    let mut chars = column_type[open + 1..].chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\'' {
            continue;
        }
        let mut label = String::new();
        while let Some(c) = chars.next() {
            match c {
                '\'' if chars.peek() == Some(&'\'') => {
                    chars.next();
                    label.push('\'');
                }
                '\'' => break,
                '\\' => {
                    if let Some(n) = chars.next() {
                        label.push(n);
                    }
                }
                c => label.push(c),
            }
        }
        out.push(label);
    }
    out
}

/// Whether a statement logged as DDL can change a table's columns, keys or
/// existence (or a database's default charset). Decided on its leading
/// words so that statements the parser cannot read are sorted too:
/// `false` only for statements known not to touch table schemas; anything
/// unrecognised is `true` and goes to the parser (which warns if it fails).
pub fn may_change_tables(sql: &str) -> bool {
    let words = leading_words(sql, 16);
    let Some(first) = words.first() else {
        return false;
    };
    match first.as_str() {
        "CREATE" | "ALTER" | "DROP" => {
            // The object kind is the first of these words; modifiers
            // (OR REPLACE, TEMPORARY, ONLINE, IGNORE, UNIQUE, DEFINER = …,
            // ALGORITHM = …, SQL SECURITY …, IF [NOT] EXISTS) come before it.
            for w in &words[1..] {
                match w.as_str() {
                    "TABLE" | "TABLES" | "DATABASE" | "SCHEMA" | "INDEX" | "SEQUENCE" => {
                        return true
                    }
                    "USER"
                    | "ROLE"
                    | "VIEW"
                    | "PROCEDURE"
                    | "FUNCTION"
                    | "TRIGGER"
                    | "EVENT"
                    | "SERVER"
                    | "TABLESPACE"
                    | "LOGFILE"
                    | "PACKAGE"
                    | "AGGREGATE"
                    | "RESOURCE"
                    | "SPATIAL_REFERENCE_SYSTEM"
                    | "UNDO" => return false,
                    _ => {}
                }
            }
            true
        }
        // RENAME TABLE changes tables; RENAME USER does not.
        "RENAME" => words.get(1).map(String::as_str) != Some("USER"),
        "GRANT" | "REVOKE" | "SET" | "FLUSH" | "ANALYZE" | "OPTIMIZE" | "REPAIR" | "CHECK"
        | "CHECKSUM" | "INSTALL" | "UNINSTALL" | "LOCK" | "UNLOCK" | "PURGE" | "RESET" | "KILL"
        | "SHUTDOWN" | "CHANGE" | "BACKUP" | "USE" | "SHOW" | "DO" | "CALL" | "SAVEPOINT"
        | "RELEASE" | "HELP" | "SIGNAL" | "RESIGNAL" | "CACHE" | "LOAD" => false,
        _ => true,
    }
}

/// The first `n` bare words of a statement, upper-cased. Comments are
/// skipped, except executable ones (`/*!50001 …*/`, `/*M!100100 …*/`),
/// whose text the server runs; quoted names and strings are skipped.
fn leading_words(sql: &str, n: usize) -> Vec<String> {
    let b = sql.as_bytes();
    let mut words = Vec::new();
    let mut i = 0;
    while i < b.len() && words.len() < n {
        let c = b[i];
        if c.is_ascii_alphabetic() || c == b'_' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'$') {
                i += 1;
            }
            words.push(sql[start..i].to_ascii_uppercase());
        } else if c == b'/' && b.get(i + 1) == Some(&b'*') {
            let exec = match b.get(i + 2) {
                Some(b'!') => Some(i + 3),
                Some(b'M') if b.get(i + 3) == Some(&b'!') => Some(i + 4),
                _ => None,
            };
            match exec {
                Some(mut j) => {
                    // Executable comment: skip the version number, read on.
                    while j < b.len() && b[j].is_ascii_digit() {
                        j += 1;
                    }
                    i = j;
                }
                None => {
                    i = match sql[i + 2..].find("*/") {
                        Some(end) => i + 2 + end + 2,
                        None => b.len(),
                    };
                }
            }
        } else if c == b'#' || (c == b'-' && b.get(i + 1) == Some(&b'-')) {
            i = sql[i..].find('\n').map_or(b.len(), |end| i + end + 1);
        } else if matches!(c, b'`' | b'\'' | b'"') {
            // Doubled quotes inside are two adjacent quoted runs: fine.
            let mut j = i + 1;
            while j < b.len() && b[j] != c {
                if b[j] == b'\\' && c != b'`' {
                    j += 1;
                }
                j += 1;
            }
            i = j + 1;
        } else {
            i += 1;
        }
    }
    words
}

/// For DDL we cannot parse: the table an ALTER/CREATE TABLE statement names.
fn ddl_target(sql: &str) -> Option<(Option<String>, String)> {
    let tokens: Vec<String> = sql
        .split(|c: char| c.is_whitespace() || c == '(' || c == ';')
        .filter(|t| !t.is_empty())
        .take(12)
        .map(str::to_string)
        .collect();
    let upper: Vec<String> = tokens.iter().map(|t| t.to_ascii_uppercase()).collect();
    let i = upper.iter().position(|t| t == "TABLE")?;
    if !matches!(upper.first().map(String::as_str), Some("ALTER" | "CREATE")) {
        return None;
    }
    let mut j = i + 1;
    while upper
        .get(j)
        .is_some_and(|t| matches!(t.as_str(), "IF" | "NOT" | "EXISTS"))
    {
        j += 1;
    }
    let name = tokens.get(j)?;
    let parts: Vec<String> = name
        .split('.')
        .map(|p| p.trim_matches('`').to_string())
        .collect();
    match parts.as_slice() {
        [db, table] => Some((Some(db.clone()), table.clone())),
        [table] => Some((None, table.clone())),
        _ => None,
    }
}

/// MariaDB's `… COMPRESSED` columns travel with type codes of their own
/// (information_schema still says `text`, `blob`, `varchar`, …).
const BLOB_COMPRESSED: u8 = 140;
const VARCHAR_COMPRESSED: u8 = 141;

/// Binlog type codes a schema type may travel as.
fn binlog_types(data_type: &str) -> Option<&'static [u8]> {
    Some(match data_type {
        "tinyint" => &[ct::TINY],
        "smallint" => &[ct::SHORT],
        "mediumint" => &[ct::INT24],
        "int" => &[ct::LONG],
        "bigint" => &[ct::LONGLONG],
        "float" => &[ct::FLOAT],
        "double" => &[ct::DOUBLE],
        "decimal" => &[ct::NEWDECIMAL, ct::DECIMAL],
        "date" => &[ct::DATE, ct::NEWDATE],
        "datetime" => &[ct::DATETIME2, ct::DATETIME],
        "timestamp" => &[ct::TIMESTAMP2, ct::TIMESTAMP],
        "time" => &[ct::TIME2, ct::TIME],
        "year" => &[ct::YEAR],
        "char" | "binary" | "uuid" | "inet4" | "inet6" => &[ct::STRING],
        "varchar" | "varbinary" => &[ct::VARCHAR, ct::VAR_STRING, VARCHAR_COMPRESSED],
        "enum" => &[ct::ENUM],
        "set" => &[ct::SET],
        "tinytext" | "text" | "mediumtext" | "longtext" | "tinyblob" | "blob" | "mediumblob"
        | "longblob" | "long" => &[
            ct::BLOB,
            ct::TINY_BLOB,
            ct::MEDIUM_BLOB,
            ct::LONG_BLOB,
            BLOB_COMPRESSED,
        ],
        "json" => &[ct::JSON, ct::BLOB],
        "bit" => &[ct::BIT],
        "geometry" | "point" | "linestring" | "polygon" | "multipoint" | "multilinestring"
        | "multipolygon" | "geometrycollection" | "geomcollection" => &[ct::GEOMETRY],
        "vector" => &[ct::VECTOR, ct::VARCHAR],
        _ => return None,
    })
}

/// Why a table map does not fit a schema, or `None` when it does.
pub fn mismatch(map: &TableMap, schema: &TableSchema) -> Option<String> {
    let describe_map = || {
        map.columns
            .iter()
            .map(|c| ct::name(c.real_type()).to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let describe_schema = || {
        schema
            .columns
            .iter()
            .map(|c| format!("{} {}", c.name, c.data_type))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if map.columns.len() != schema.columns.len() {
        return Some(format!(
            "the TABLE_MAP of {} has {} columns ({}) but the schema history has {} ({})",
            map.qualified_name(),
            map.columns.len(),
            describe_map(),
            schema.columns.len(),
            describe_schema()
        ));
    }
    for (i, (col, s)) in map.columns.iter().zip(&schema.columns).enumerate() {
        if let Some(types) = binlog_types(&s.data_type) {
            if !types.contains(&col.real_type()) {
                return Some(format!(
                    "column #{} of {} is {} in the TABLE_MAP but `{}` {} in the schema history",
                    i + 1,
                    map.qualified_name(),
                    ct::name(col.real_type()),
                    s.name,
                    s.data_type
                ));
            }
        }
        if let Some(name) = &col.name {
            if map.has_column_names && !name.eq_ignore_ascii_case(&s.name) {
                return Some(format!(
                    "column #{} of {} is named `{name}` in the TABLE_MAP but `{}` in the schema history",
                    i + 1,
                    map.qualified_name(),
                    s.name
                ));
            }
        }
    }
    None
}

/// The table map with the schema applied, after checking they agree. A
/// mismatch with a schema known to hold at the event is an error; with a
/// later snapshot (a guess) the map is used alone and a warning returned.
pub fn resolve_table_map(
    map: &TableMap,
    lookup: Lookup<'_>,
) -> Result<(TableMap, Option<String>), String> {
    let (schema, certain) = match lookup {
        Lookup::Certain(s) => (s, true),
        Lookup::Guess(s) => (s, false),
        Lookup::Unknown => return Ok((map.clone(), None)),
    };
    if let Some(why) = mismatch(map, schema) {
        if certain {
            return Err(format!(
                "{why}. The table changed without a DDL this reader saw (was the schema history \
                 saved with the position it belongs to?); restart with a fresh history from a \
                 position after the change, or with binlog_row_metadata=FULL on the server"
            ));
        }
        return Ok((
            map.clone(),
            Some(format!("{why}; the schema snapshot is newer than the event, decoding with the table map alone")),
        ));
    }
    let columns: Vec<ColumnSchema> = schema.columns.iter().map(to_column_schema).collect();
    let mut out = map.clone();
    out.apply_schema(&columns)?;
    Ok((out, None))
}

/// A [`SchemaHistory`] applied to one binlog stream, event by event: DDL
/// from QUERY events becomes a version at the end of its event, and each
/// TABLE_MAP is resolved against the version in force at its start. The
/// live source and the file reader share it, so both decode with the same
/// names, signedness, charsets, ENUM/SET labels, UUID/INET types and
/// primary key. What a TABLE_MAP carries itself (full row metadata) wins
/// over the history.
#[derive(Debug, Clone, Default)]
pub struct SchemaTracker {
    history: SchemaHistory,
    /// Off: DDL is not followed and table maps pass through unchanged.
    follow: bool,
    /// Resolved table maps by table id (rows events name their table by id).
    resolved: TableIdMap<Arc<TableMap>>,
    first_guess: Option<Guessed>,
}

/// A table map that took its names from a snapshot taken after it
/// ([`Lookup::Guess`]): right unless the table changed in between.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Guessed {
    /// `db.table`.
    pub table: String,
    /// Where the table map is.
    pub at: Position,
    /// Where the snapshot holds from.
    pub snapshot: Position,
}

impl SchemaTracker {
    /// `follow` off: DDL is not applied and maps are used as logged.
    pub fn new(history: SchemaHistory, follow: bool) -> Self {
        SchemaTracker {
            history,
            follow,
            resolved: TableIdMap::default(),
            first_guess: None,
        }
    }

    /// The first table map resolved with a snapshot taken after it.
    pub fn first_guess(&self) -> Option<&Guessed> {
        self.first_guess.as_ref()
    }

    pub fn history(&self) -> &SchemaHistory {
        &self.history
    }

    pub fn history_mut(&mut self) -> &mut SchemaHistory {
        &mut self.history
    }

    /// A DDL statement (see [`binlog::txn::classify_statement`]) logged in a
    /// QUERY event whose end is `at`, with `default_db` its session's
    /// database: it becomes a new version.
    pub fn ddl(&mut self, default_db: &str, sql: &str, at: &Position) {
        if !self.follow {
            return;
        }
        self.history.apply_ddl(default_db, sql, at);
        // Maps resolved before the DDL describe the old table.
        self.resolved.clear();
    }

    /// A TABLE_MAP event starting at `at`: the map with the schema of that
    /// position applied. A warning (a later snapshot that does not fit) is
    /// kept in the history's warnings. `Err`: the map disagrees with the
    /// version known to hold at `at`; the map is then remembered as logged
    /// so the caller may go on with it.
    pub fn table_map(
        &mut self,
        map: &Arc<TableMap>,
        at: &Position,
    ) -> Result<Arc<TableMap>, String> {
        let lookup = if self.follow {
            self.history.table_at(&map.database, &map.table, at)
        } else {
            Lookup::Unknown
        };
        let guess = matches!(lookup, Lookup::Guess(_));
        let outcome = match lookup {
            Lookup::Unknown => Ok(Arc::clone(map)),
            lookup => match resolve_table_map(map, lookup) {
                Ok((resolved, Some(w))) => {
                    self.history
                        .warnings
                        .push(format!("{}: {w}", at.file_pos()));
                    Ok(Arc::new(resolved))
                }
                Ok((resolved, None)) => {
                    if guess && self.first_guess.is_none() {
                        let versions = self.history.versions(&map.database, &map.table);
                        self.first_guess = versions.first().map(|v| Guessed {
                            table: map.qualified_name(),
                            at: bare(at),
                            snapshot: v.since.clone(),
                        });
                    }
                    Ok(Arc::new(resolved))
                }
                Err(e) => Err(e),
            },
        };
        let kept = match &outcome {
            Ok(m) => Arc::clone(m),
            Err(_) => Arc::clone(map),
        };
        self.resolved.insert(map.table_id, kept);
        outcome
    }

    /// The resolved map of a rows event's table id.
    pub fn table(&self, table_id: u64) -> Option<&Arc<TableMap>> {
        self.resolved.get(&table_id)
    }

    /// A new binlog file or a new connection: table ids start over.
    pub fn forget_maps(&mut self) {
        self.resolved.clear();
    }
}

fn to_column_schema(c: &ColumnInfo) -> ColumnSchema {
    let labels = |v: &Option<Vec<String>>| {
        v.as_ref()
            .map(|l| l.iter().map(|s| s.as_bytes().to_vec()).collect())
    };
    ColumnSchema {
        name: Some(c.name.clone()),
        unsigned: c.unsigned,
        charset: c.collation,
        enum_values: labels(&c.enum_values),
        set_values: labels(&c.set_values),
        logical: match c.data_type.as_str() {
            "uuid" => Some(LogicalType::Uuid),
            "inet4" => Some(LogicalType::Inet4),
            "inet6" => Some(LogicalType::Inet6),
            _ => None,
        },
        primary_key: c.primary_key,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use binlog::column::ColumnDef;

    fn history() -> SchemaHistory {
        let mut h = SchemaHistory::new();
        h.collations.insert("utf8mb4_general_ci".into(), 45);
        h.collations.insert("latin1_swedish_ci".into(), 8);
        h.charset_default
            .insert("latin1".into(), "latin1_swedish_ci".into());
        h.server_default = Some("utf8mb4_general_ci".into());
        h
    }

    fn pos(p: u64) -> Position {
        Position::new("mysql-bin.000001", p)
    }

    fn names(h: &SchemaHistory, at: u64) -> Vec<String> {
        match h.table_at("db", "t", &pos(at)) {
            Lookup::Certain(s) | Lookup::Guess(s) => {
                s.columns.iter().map(|c| c.name.clone()).collect()
            }
            Lookup::Unknown => vec![],
        }
    }

    #[test]
    fn create_alter_drop_rename_are_versioned_by_position() {
        let mut h = history();
        h.apply_ddl(
            "db",
            "CREATE TABLE t (id INT UNSIGNED NOT NULL, name VARCHAR(20) CHARACTER SET latin1, \
             kind ENUM('a','b''c'), PRIMARY KEY (id)) DEFAULT CHARSET=utf8mb4",
            &pos(100),
        );
        h.apply_ddl(
            "db",
            "ALTER TABLE t ADD COLUMN note TEXT AFTER id, DROP COLUMN kind",
            &pos(200),
        );
        h.apply_ddl(
            "other",
            "ALTER TABLE db.t MODIFY name VARCHAR(40) FIRST",
            &pos(300),
        );
        h.apply_ddl("db", "ALTER TABLE `t` CHANGE note remark TEXT", &pos(400));
        assert_eq!(names(&h, 150), ["id", "name", "kind"]);
        assert_eq!(names(&h, 250), ["id", "note", "name"]);
        assert_eq!(names(&h, 350), ["name", "id", "note"]);
        assert_eq!(names(&h, 450), ["name", "id", "remark"]);
        let Lookup::Certain(v1) = h.table_at("db", "t", &pos(150)) else {
            panic!()
        };
        assert!(v1.columns[0].unsigned && v1.columns[0].primary_key);
        assert_eq!(v1.columns[1].collation, Some(8));
        assert_eq!(
            v1.columns[2].enum_values.as_deref(),
            Some(&["a".to_string(), "b'c".to_string()][..])
        );
        let Lookup::Certain(v4) = h.table_at("db", "t", &pos(450)) else {
            panic!()
        };
        assert!(
            v4.columns[1].primary_key,
            "primary key survives MODIFY of another column"
        );

        // A replay of the same DDL after restarting from an old position changes nothing.
        let before = h.clone();
        h.apply_ddl(
            "db",
            "ALTER TABLE t ADD COLUMN note TEXT AFTER id, DROP COLUMN kind",
            &pos(200),
        );
        assert_eq!(h, before);

        h.apply_ddl("db", "RENAME TABLE t TO u", &pos(500));
        assert_eq!(h.table_at("db", "t", &pos(600)), Lookup::Unknown);
        assert!(matches!(
            h.table_at("db", "u", &pos(600)),
            Lookup::Certain(_)
        ));
        h.apply_ddl(
            "db",
            "DROP TABLE IF EXISTS `u` /* generated by server */",
            &pos(700),
        );
        assert_eq!(h.table_at("db", "u", &pos(800)), Lookup::Unknown);

        let json = h.to_json();
        assert_eq!(SchemaHistory::from_json(&json).unwrap(), h);
    }

    #[test]
    fn unparsable_ddl_makes_the_table_unknown_with_a_warning() {
        let mut h = history();
        h.apply_ddl("db", "CREATE TABLE t (id INT)", &pos(100));
        h.apply_ddl(
            "db",
            "ALTER TABLE t ADD SYSTEM VERSIONING WITH @@ weird",
            &pos(200),
        );
        assert_eq!(h.table_at("db", "t", &pos(300)), Lookup::Unknown);
        assert!(!h.warnings.is_empty());
    }

    #[test]
    fn statements_that_cannot_change_tables_are_ignored_without_warnings() {
        let mut h = history();
        h.apply_ddl("db", "CREATE TABLE t (id INT PRIMARY KEY)", &pos(100));
        // As MariaDB 10.11 logs them (account management included), plus
        // other statements the binlog carries as QUERY events.
        for (i, sql) in [
            "CREATE USER 'repl'@'127.0.0.1' IDENTIFIED BY PASSWORD '*A4B6157319038724E3560894F7F932C8886EBFCF'",
            "CREATE USER IF NOT EXISTS `u`@`%` IDENTIFIED VIA ed25519 USING PASSWORD('x')",
            "GRANT ALL PRIVILEGES ON *.* TO 'repl'@'127.0.0.1'",
            "GRANT SELECT (id), INSERT ON db.t TO 'a'@'%' WITH GRANT OPTION",
            "REVOKE ALL PRIVILEGES, GRANT OPTION FROM 'a'@'%'",
            "ALTER USER 'a'@'%' ACCOUNT LOCK PASSWORD EXPIRE INTERVAL 90 DAY",
            "DROP USER IF EXISTS 'a'@'%'",
            "RENAME USER 'a'@'%' TO 'b'@'%'",
            "CREATE ROLE developer",
            "SET PASSWORD FOR 'a'@'%' = PASSWORD('y')",
            "SET DEFAULT ROLE developer FOR 'a'@'%'",
            "FLUSH PRIVILEGES",
            "FLUSH /*!40101 LOCAL */ TABLES",
            "ANALYZE TABLE t PERSISTENT FOR ALL",
            "OPTIMIZE TABLE t",
            "REPAIR TABLE t",
            "INSTALL SONAME 'auth_ed25519'",
            "CREATE DEFINER=`root`@`localhost` TRIGGER trg BEFORE INSERT ON t FOR EACH ROW SET NEW.id = NEW.id + 1",
            "CREATE OR REPLACE ALGORITHM=UNDEFINED DEFINER=`root`@`%` SQL SECURITY DEFINER VIEW v AS SELECT id FROM t",
            "DROP VIEW IF EXISTS v",
            "CREATE DEFINER=`root`@`localhost` PROCEDURE p() BEGIN ALTER TABLE t ADD x INT; END",
            "CREATE DEFINER=`root`@`localhost` EVENT e ON SCHEDULE EVERY 1 DAY DO DELETE FROM t",
            "/* a comment */ GRANT USAGE ON *.* TO 'x'@'%'",
        ]
        .into_iter()
        .enumerate()
        {
            assert!(!may_change_tables(sql), "{sql}");
            h.apply_ddl("db", sql, &pos(200 + i as u64));
        }
        assert!(h.warnings.is_empty(), "{:?}", h.warnings);
        // The table is still known, with the columns of its CREATE.
        assert_eq!(names(&h, 1000), ["id"]);

        // Table DDL still goes to the parser, in all its spellings.
        for sql in [
            "ALTER TABLE t ADD c INT",
            "ALTER ONLINE IGNORE TABLE t ADD c INT",
            "CREATE OR REPLACE TEMPORARY TABLE x (a INT)",
            "DROP TABLE IF EXISTS `t` /* generated by server */",
            "RENAME TABLE a TO b",
            "TRUNCATE t",
            "CREATE UNIQUE INDEX i ON t (id)",
            "DROP INDEX `PRIMARY` ON t",
            "CREATE DATABASE d CHARACTER SET latin1",
            "/*!40000 ALTER TABLE `t` DISABLE KEYS */",
            "CREATE SEQUENCE s",
            "SOMETHING NEW t",
        ] {
            assert!(may_change_tables(sql), "{sql}");
        }
        // ... and genuinely unparsable table DDL keeps its warning.
        h.apply_ddl(
            "db",
            "ALTER TABLE t ADD SYSTEM VERSIONING WITH @@ weird",
            &pos(2000),
        );
        assert_eq!(h.warnings.total(), 1, "{:?}", h.warnings);
    }

    #[test]
    fn system_versioning_is_not_taken_for_a_column() {
        let mut h = history();
        h.apply_ddl("db", "CREATE TABLE t (id INT)", &pos(100));
        h.apply_ddl("db", "ALTER TABLE t ADD SYSTEM VERSIONING", &pos(200));
        assert_eq!(names(&h, 150), ["id"]);
        assert_eq!(h.table_at("db", "t", &pos(300)), Lookup::Unknown);
        assert_eq!(h.warnings.total(), 1, "{:?}", h.warnings);
        // A real column of that name and type still is one.
        h.apply_ddl("db", "CREATE TABLE u (id INT)", &pos(400));
        h.apply_ddl("db", "ALTER TABLE u ADD `system` INT", &pos(500));
        assert_eq!(h.warnings.total(), 1, "{:?}", h.warnings);
    }

    #[test]
    fn warnings_keep_a_count_and_the_last_few() {
        let mut w = Warnings::default();
        assert!(w.is_empty());
        for i in 0..Warnings::KEEP + 50 {
            w.push(format!("w{i}"));
        }
        assert_eq!(w.total(), Warnings::KEEP + 50);
        let kept: Vec<&str> = w.recent().collect();
        assert_eq!(kept.len(), Warnings::KEEP);
        assert_eq!(kept[0], "w50");
        assert_eq!(*kept.last().unwrap(), format!("w{}", Warnings::KEEP + 49));
        // A reader that saw 10 missed 40 that are gone, then gets the rest.
        let (dropped, rest) = w.since(10);
        assert_eq!(dropped, 40);
        assert_eq!(rest.count(), Warnings::KEEP);
        // A reader that saw up to w139 gets w140…
        let (dropped, rest) = w.since(140);
        assert_eq!(dropped, 0);
        assert_eq!(
            rest.collect::<Vec<_>>(),
            ["w140", "w141", "w142", "w143", "w144", "w145", "w146", "w147", "w148", "w149"]
        );
        let (dropped, rest) = w.since(w.total());
        assert_eq!((dropped, rest.count()), (0, 0));

        // A history fed unparsable DDL forever stays bounded.
        let mut h = SchemaHistory::new();
        for i in 0..1000u64 {
            h.apply_ddl(
                "db",
                "ALTER TABLE t ADD SYSTEM VERSIONING WITH @@ weird",
                &pos(i),
            );
        }
        assert_eq!(h.warnings.total(), 1000);
        assert_eq!(h.warnings.recent().count(), Warnings::KEEP);
    }

    #[test]
    fn table_map_checks_against_the_schema() {
        let mut h = history();
        h.apply_ddl(
            "db",
            "CREATE TABLE t (id INT UNSIGNED PRIMARY KEY, v VARCHAR(5))",
            &pos(100),
        );
        let mut map = TableMap {
            table_id: 1,
            flags: 0,
            database: "db".into(),
            table: "t".into(),
            columns: vec![ColumnDef::new(ct::LONG, 0), ColumnDef::new(ct::VARCHAR, 20)],
            primary_key: vec![],
            has_column_names: false,
            has_signedness: false,
        };
        let (resolved, warning) =
            resolve_table_map(&map, h.table_at("db", "t", &pos(150))).unwrap();
        assert!(warning.is_none());
        assert_eq!(resolved.columns[0].name.as_deref(), Some("id"));
        assert!(resolved.columns[0].unsigned && resolved.columns[0].primary_key);
        assert_eq!(resolved.columns[1].charset, Some(45));

        map.columns.push(ColumnDef::new(ct::LONG, 0));
        let err = resolve_table_map(&map, h.table_at("db", "t", &pos(150))).unwrap_err();
        assert!(
            err.contains("has 3 columns") && err.contains("has 2"),
            "{err}"
        );
        map.columns.pop();
        map.columns[1] = ColumnDef::new(ct::DOUBLE, 8);
        let err = resolve_table_map(&map, h.table_at("db", "t", &pos(150))).unwrap_err();
        assert!(err.contains("DOUBLE"), "{err}");
        // MariaDB's VARCHAR … COMPRESSED keeps its schema.
        map.columns[1] = ColumnDef::new(VARCHAR_COMPRESSED, 20);
        let (resolved, _) = resolve_table_map(&map, h.table_at("db", "t", &pos(150))).unwrap();
        assert_eq!(resolved.columns[1].name.as_deref(), Some("v"));
    }

    fn map_of(id: u64, columns: Vec<ColumnDef>) -> Arc<TableMap> {
        Arc::new(TableMap {
            table_id: id,
            flags: 0,
            database: "db".into(),
            table: "t".into(),
            columns,
            primary_key: vec![],
            has_column_names: false,
            has_signedness: false,
        })
    }

    fn column_names(m: &TableMap) -> Vec<Option<&str>> {
        m.columns.iter().map(|c| c.name.as_deref()).collect()
    }

    #[test]
    fn tracker_names_table_maps_on_each_side_of_an_alter() {
        let mut h = history();
        h.insert(
            "db",
            "t",
            &pos(100),
            Origin::Snapshot,
            Some(TableSchema {
                columns: vec![
                    ColumnInfo {
                        name: "id".into(),
                        data_type: "int".into(),
                        unsigned: true,
                        collation: None,
                        enum_values: None,
                        set_values: None,
                        primary_key: true,
                    },
                    ColumnInfo {
                        name: "u".into(),
                        data_type: "uuid".into(),
                        unsigned: false,
                        collation: None,
                        enum_values: None,
                        set_values: None,
                        primary_key: false,
                    },
                ],
            }),
        );
        let mut t = SchemaTracker::new(h, true);
        let two = || vec![ColumnDef::new(ct::LONG, 0), ColumnDef::new(ct::STRING, 16)];
        let before = t.table_map(&map_of(7, two()), &pos(150)).unwrap();
        assert_eq!(column_names(&before), [Some("id"), Some("u")]);
        assert!(before.columns[0].unsigned && before.columns[0].primary_key);
        assert_eq!(before.columns[1].logical, Some(LogicalType::Uuid));
        assert!(Arc::ptr_eq(t.table(7).unwrap(), &before));
        assert_eq!(t.first_guess(), None);

        t.ddl("db", "ALTER TABLE t RENAME COLUMN u TO ref", &pos(200));
        // Maps resolved before the DDL are gone.
        assert!(t.table(7).is_none());
        let after = t.table_map(&map_of(8, two()), &pos(250)).unwrap();
        assert_eq!(column_names(&after), [Some("id"), Some("ref")]);

        // A map that names its columns keeps its names; one that disagrees
        // with the version in force is refused and remembered as logged.
        let mut named = (*map_of(9, two())).clone();
        named.has_column_names = true;
        named.columns[0].name = Some("ID".into());
        named.columns[1].name = Some("ref".into());
        let kept = t.table_map(&Arc::new(named.clone()), &pos(260)).unwrap();
        assert_eq!(column_names(&kept), [Some("ID"), Some("ref")]);
        named.columns[1].name = Some("other".into());
        let named = Arc::new(named);
        assert!(t.table_map(&named, &pos(270)).is_err());
        assert!(Arc::ptr_eq(t.table(9).unwrap(), &named));

        // Before the snapshot: names from it, noted as a guess.
        let early = t.table_map(&map_of(10, two()), &pos(50)).unwrap();
        assert_eq!(column_names(&early), [Some("id"), Some("u")]);
        let g = t.first_guess().unwrap();
        assert_eq!(
            (g.table.as_str(), g.at.pos, g.snapshot.pos),
            ("db.t", 50, 100)
        );

        // Not following: maps pass through, DDL is ignored.
        let mut off = SchemaTracker::new(t.history().clone(), false);
        let raw = map_of(11, two());
        assert!(Arc::ptr_eq(&off.table_map(&raw, &pos(150)).unwrap(), &raw));
        off.ddl("db", "DROP TABLE t", &pos(300));
        assert_eq!(off.history().versions("db", "t").len(), 2);
    }

    #[test]
    fn quoted_lists_from_information_schema() {
        assert_eq!(
            parse_quoted_list("enum('x','it''s','a,b')"),
            ["x", "it's", "a,b"]
        );
        assert_eq!(parse_quoted_list("set('')"), [""]);
        assert!(parse_quoted_list("int(11)").is_empty());
    }
}
