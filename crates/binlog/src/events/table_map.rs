//! TABLE_MAP_EVENT: binds a table id to a table's name and column layout.
