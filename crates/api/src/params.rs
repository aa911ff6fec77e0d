//! Query-string parameters, validated with errors that name the parameter.
//!
//! Shared by REST and GraphQL: the value checks take the parameter's name
//! so each surface reports its own spelling (`start_time` / `startTime`).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use pipeline::record::Operation;
use store::{Order, TableRef, TimeRange, DEFAULT_LIMIT, MAX_LIMIT};

use crate::error::ApiError;
use crate::time::{parse_span, parse_time};

/// Parameters every route accepts besides its own: the token for clients
/// that cannot send headers, and a cache buster.
const ALWAYS_ALLOWED: [&str; 2] = ["access_token", "_"];

/// The raw query string as ordered pairs (repeated names kept).
#[derive(Debug, Default)]
pub struct Params {
    pairs: Vec<(String, String)>,
}

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        let pairs = serde_urlencoded::from_str::<Vec<(String, String)>>(query)
            .map_err(|e| ApiError::bad("query", format!("malformed query string: {e}")))?;
        Ok(Params { pairs })
    }
}

impl Params {
    #[cfg(test)]
    pub fn from_pairs(pairs: &[(&str, &str)]) -> Params {
        Params {
            pairs: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    /// 400 for a parameter the route does not know (a typo such as
    /// `operations=` would otherwise be silently ignored).
    pub fn allow(&self, names: &[&str]) -> Result<(), ApiError> {
        for (k, _) in &self.pairs {
            if !names.contains(&k.as_str()) && !ALWAYS_ALLOWED.contains(&k.as_str()) {
                let mut known: Vec<&str> = names.to_vec();
                known.sort_unstable();
                return Err(ApiError::bad(
                    k.clone(),
                    format!("unknown parameter (this route takes: {})", known.join(", ")),
                ));
            }
        }
        Ok(())
    }

    /// The single value of `name`; repeated is an error, empty is absent.
    pub fn get(&self, name: &str) -> Result<Option<&str>, ApiError> {
        let mut values = self.pairs.iter().filter(|(k, _)| k == name);
        let first = values.next().map(|(_, v)| v.as_str());
        if values.next().is_some() {
            return Err(ApiError::bad(name, "given more than once"));
        }
        Ok(first.filter(|v| !v.trim().is_empty()))
    }

    pub fn required(&self, name: &str) -> Result<&str, ApiError> {
        self.get(name)?
            .ok_or_else(|| ApiError::bad(name, "required parameter is missing"))
    }

    /// Every value of a parameter that may repeat, each split on commas.
    pub fn list(&self, name: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(k, _)| k == name)
            .flat_map(|(_, v)| v.split(','))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .collect()
    }

    /// `time_range=7d` (ending now, open end) or `start_time`/`end_time`.
    pub fn range(&self, now: u32) -> Result<TimeRange, ApiError> {
        range(
            RangeArgs {
                time_range: self.get("time_range")?,
                start: self.get("start_time")?,
                end: self.get("end_time")?,
            },
            RANGE_NAMES_REST,
            now,
        )
    }

    pub fn limit(&self) -> Result<u32, ApiError> {
        limit("limit", self.get("limit")?)
    }

    pub fn cursor(&self) -> Result<Option<i64>, ApiError> {
        cursor("cursor", self.get("cursor")?)
    }

    pub fn operations(&self) -> Result<Vec<Operation>, ApiError> {
        operations("operation", self.list("operation"))
    }

    pub fn order(&self) -> Result<Order, ApiError> {
        order("order", self.get("order")?)
    }

    /// `database` and `table` together, or neither.
    pub fn table(&self) -> Result<Option<TableRef>, ApiError> {
        table_filter(
            self.get("database")?,
            self.get("table")?,
            "database",
            "table",
        )
    }
}

pub struct RangeArgs<'a> {
    pub time_range: Option<&'a str>,
    pub start: Option<&'a str>,
    pub end: Option<&'a str>,
}

/// How a surface spells the three range parameters.
pub type RangeNames = (&'static str, &'static str, &'static str);
pub const RANGE_NAMES_REST: RangeNames = ("time_range", "start_time", "end_time");
pub const RANGE_NAMES_GRAPHQL: RangeNames = ("timeRange", "startTime", "endTime");

pub fn range(args: RangeArgs<'_>, names: RangeNames, now: u32) -> Result<TimeRange, ApiError> {
    let (range_name, start_name, end_name) = names;
    if let Some(span) = args.time_range {
        if args.start.is_some() || args.end.is_some() {
            return Err(ApiError::bad(
                range_name,
                format!("give {range_name} or {start_name}/{end_name}, not both"),
            ));
        }
        if span.eq_ignore_ascii_case("all") {
            return Ok(TimeRange::all());
        }
        let secs = parse_span(span).filter(|s| *s > 0).ok_or_else(|| {
            ApiError::bad(
                range_name,
                format!("{span:?} is not a span such as 30m, 24h, 7d, 2w or all"),
            )
        })?;
        let start = i64::from(now) - i64::try_from(secs).unwrap_or(i64::MAX);
        return Ok(TimeRange {
            start: Some(u32::try_from(start.max(0)).unwrap_or(0)),
            end: None,
        });
    }
    let start = args.start.map(|s| time(start_name, s, false)).transpose()?;
    let end = args.end.map(|s| time(end_name, s, true)).transpose()?;
    if let (Some(s), Some(e)) = (start, end) {
        if s > e {
            return Err(ApiError::bad(
                start_name,
                format!("{start_name} is after {end_name}"),
            ));
        }
    }
    Ok(TimeRange { start, end })
}

/// One time bound. A bare date as an end bound means through that day.
pub fn time(name: &str, text: &str, end: bool) -> Result<u32, ApiError> {
    let parsed = parse_time(text).ok_or_else(|| {
        ApiError::bad(
            name,
            format!(
                "{text:?} is not a time: use 2024-01-15, 2024-01-15T10:30:00Z or epoch seconds"
            ),
        )
    })?;
    let seconds = if end && parsed.date_only {
        parsed.seconds + 86_400
    } else {
        parsed.seconds
    };
    u32::try_from(seconds).map_err(|_| {
        ApiError::bad(
            name,
            format!("{text:?} is outside 1970-01-01 .. 2106-02-07 (binlog time)"),
        )
    })
}

pub fn limit(name: &str, text: Option<&str>) -> Result<u32, ApiError> {
    let Some(text) = text else {
        return Ok(DEFAULT_LIMIT);
    };
    match text.trim().parse::<u32>() {
        Ok(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        _ => Err(ApiError::bad(
            name,
            format!("{text:?} is not a whole number from 1 to {MAX_LIMIT}"),
        )),
    }
}

pub fn cursor(name: &str, text: Option<&str>) -> Result<Option<i64>, ApiError> {
    text.map(|t| {
        t.trim().parse::<i64>().map_err(|_| {
            ApiError::bad(
                name,
                format!("{t:?} is not a cursor (use the X-Next-Cursor value of the previous page)"),
            )
        })
    })
    .transpose()
}

pub fn operations<'a>(
    name: &str,
    values: impl IntoIterator<Item = &'a str>,
) -> Result<Vec<Operation>, ApiError> {
    let mut ops = Vec::new();
    for v in values {
        let op = Operation::parse(v).ok_or_else(|| {
            ApiError::bad(
                name,
                format!("{v:?} is not an operation (INSERT, UPDATE or DELETE)"),
            )
        })?;
        if !ops.contains(&op) {
            ops.push(op);
        }
    }
    Ok(ops)
}

pub fn order(name: &str, text: Option<&str>) -> Result<Order, ApiError> {
    match text.map(str::to_ascii_lowercase).as_deref() {
        None | Some("asc") => Ok(Order::Asc),
        Some("desc") => Ok(Order::Desc),
        Some(_) => Err(ApiError::bad(name, "must be asc or desc")),
    }
}

pub fn table_filter(
    database: Option<&str>,
    table: Option<&str>,
    database_name: &str,
    table_name: &str,
) -> Result<Option<TableRef>, ApiError> {
    match (database, table) {
        (Some(d), Some(t)) => Ok(Some(TableRef::new(d, t))),
        (None, None) => Ok(None),
        (Some(_), None) => Err(ApiError::bad(
            table_name,
            format!("{database_name} needs {table_name} too"),
        )),
        (None, Some(_)) => Err(ApiError::bad(
            database_name,
            format!("{table_name} needs {database_name} too"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err_param(r: Result<impl std::fmt::Debug, ApiError>) -> String {
        r.unwrap_err().parameter().unwrap().to_string()
    }

    #[test]
    fn date_end_bound_covers_the_whole_day() {
        let p = Params::from_pairs(&[("start_time", "2024-01-01"), ("end_time", "2024-01-31")]);
        let r = p.range(0).unwrap();
        assert_eq!(r.start, Some(1_704_067_200));
        assert_eq!(r.end, Some(1_706_745_600)); // 2024-02-01T00:00:00Z
    }

    #[test]
    fn relative_range_ends_now_and_never_goes_below_zero() {
        let p = Params::from_pairs(&[("time_range", "7d")]);
        assert_eq!(
            p.range(1_000_000).unwrap(),
            TimeRange {
                start: Some(1_000_000 - 604_800),
                end: None
            }
        );
        assert_eq!(p.range(10).unwrap().start, Some(0));
    }

    #[test]
    fn bad_values_name_their_parameter() {
        let p = Params::from_pairs(&[("time_range", "7x")]);
        assert_eq!(err_param(p.range(0)), "time_range");
        let p = Params::from_pairs(&[("time_range", "7d"), ("start_time", "2024-01-01")]);
        assert_eq!(err_param(p.range(0)), "time_range");
        let p = Params::from_pairs(&[("end_time", "soon")]);
        assert_eq!(err_param(p.range(0)), "end_time");
        let p = Params::from_pairs(&[("start_time", "2024-02-01"), ("end_time", "2024-01-01")]);
        assert_eq!(err_param(p.range(0)), "start_time");
        let p = Params::from_pairs(&[("start_time", "1960-01-01")]);
        assert_eq!(err_param(p.range(0)), "start_time");
        assert_eq!(
            err_param(Params::from_pairs(&[("limit", "0")]).limit()),
            "limit"
        );
        assert_eq!(
            err_param(Params::from_pairs(&[("limit", "10001")]).limit()),
            "limit"
        );
        assert_eq!(
            err_param(Params::from_pairs(&[("cursor", "x")]).cursor()),
            "cursor"
        );
        let p = Params::from_pairs(&[("operation", "INSERT,MERGE")]);
        assert_eq!(err_param(p.operations()), "operation");
        let p = Params::from_pairs(&[("database", "shop")]);
        assert_eq!(err_param(p.table()), "table");
        let p = Params::from_pairs(&[("limit", "1"), ("limit", "2")]);
        assert_eq!(err_param(p.limit()), "limit");
        let p = Params::from_pairs(&[("operations", "INSERT")]);
        assert_eq!(err_param(p.allow(&["operation"])), "operations");
    }

    #[test]
    fn operations_repeat_or_split_on_commas() {
        let p = Params::from_pairs(&[("operation", "insert,UPDATE"), ("operation", "update")]);
        assert_eq!(
            p.operations().unwrap(),
            vec![Operation::Insert, Operation::Update]
        );
    }
}
