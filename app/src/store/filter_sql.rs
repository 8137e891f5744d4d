//! Compiles a [`Filter`] into a WHERE fragment of the list query, for SQLite and PostgreSQL.
//!
//! Every value, metadata key and JSON path is a bound parameter; the only SQL text comes from the
//! fixed field→column whitelist below and from this file's own templates. The semantics are those
//! documented in [`crate::filters::model`] and implemented by [`Filter::matches`]; the property test
//! in `store::filter_tests` holds the two together on both stores.
//!
//! Two details keep SQL and Rust in agreement:
//! - Case-insensitive matching lowercases ASCII letters only: SQLite's `lower()` does exactly that,
//!   PostgreSQL's does so under the "C" collation, and the needle is lowercased in Rust (ASCII) and
//!   bound. Positions are found with `instr`/`strpos`, never LIKE, so `%` and `_` are literal.
//! - IP ranges: PostgreSQL casts the text to `inet`; SQLite compares the `ip_bin` key column
//!   (family byte and big-endian address) with `BETWEEN`.
//! - Each negation is spelled `(T IS NULL OR …)`, so a missing value matches it rather than
//!   producing SQL NULL.

use sqlx::{Database, Encode, QueryBuilder, Type};

use crate::filters::cidr::Cidr;
use crate::filters::model::{Combine, Condition, Field, Filter, FilterError, Item, Op};

/// Where the two databases spell things differently.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Dialect {
    Sqlite,
    Postgres,
}

/// Validates `filter`: the store refuses what it was not meant to run, whoever the caller is.
pub(super) fn check(filter: &Filter) -> Result<(), FilterError> {
    filter.validate()
}

/// Appends ` AND (…)` for a non-empty filter; nothing for an empty one. Call [`check`] first.
pub(super) fn push_filter<'a, DB>(sql: &mut QueryBuilder<'a, DB>, filter: &Filter, d: Dialect)
where
    DB: Database,
    String: Encode<'a, DB> + Type<DB>,
    Vec<u8>: Encode<'a, DB> + Type<DB>,
{
    if filter.is_empty() {
        return;
    }
    sql.push(" AND (");
    for (i, item) in filter.items.iter().enumerate() {
        if i > 0 {
            sql.push(joiner(filter.combine));
        }
        match item {
            Item::Condition(c) => push_condition(sql, c, d),
            Item::Group {
                combine,
                conditions,
            } => {
                sql.push("(");
                for (j, c) in conditions.iter().enumerate() {
                    if j > 0 {
                        sql.push(joiner(*combine));
                    }
                    push_condition(sql, c, d);
                }
                sql.push(")");
            }
        }
    }
    sql.push(")");
}

fn joiner(c: Combine) -> &'static str {
    match c {
        Combine::All => " AND ",
        Combine::Any => " OR ",
    }
}

/// The whitelist: the column of each fixed field.
fn column(field: &Field) -> Option<&'static str> {
    Some(match field {
        Field::Event => "event",
        Field::Category => "category",
        Field::Action => "action",
        Field::Outcome => "outcome",
        Field::ActorName => "actor_name",
        Field::ActorId => "actor_id",
        Field::ActorType => "actor_type",
        Field::ActorEmail => "actor_email",
        Field::TargetType => "target_type",
        Field::TargetId => "target_id",
        Field::TargetName => "target_name",
        Field::Ip => "ip",
        Field::Source => "source",
        Field::Description => "description",
        Field::Metadata(_) => return None,
    })
}

/// The field's text value (NULL when it has none), as in [`crate::filters::model::text_value`].
fn push_text<'a, DB>(sql: &mut QueryBuilder<'a, DB>, field: &Field, d: Dialect)
where
    DB: Database,
    String: Encode<'a, DB> + Type<DB>,
    Vec<u8>: Encode<'a, DB> + Type<DB>,
{
    let Field::Metadata(key) = field else {
        sql.push(column(field).unwrap_or("NULL"));
        return;
    };
    match d {
        Dialect::Sqlite => {
            // The key is quoted inside the path, so `.` and `-` in it are not path syntax; the key's
            // character set (validated) excludes `"` and `\`.
            let path = format!("$.\"{key}\"");
            sql.push("(CASE json_type(metadata, ")
                .push_bind(path.clone())
                .push(") WHEN 'text' THEN json_extract(metadata, ")
                .push_bind(path.clone())
                // json_type says 'integer' for digits beyond i64 too, but extracts them as a real.
                .push(") WHEN 'integer' THEN CASE WHEN typeof(json_extract(metadata, ")
                .push_bind(path.clone())
                .push(")) = 'integer' THEN CAST(json_extract(metadata, ")
                .push_bind(path)
                .push(") AS TEXT) END WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' END)");
        }
        Dialect::Postgres => {
            // Integers are numbers whose text is all digits and that fit in i64 (as serde_json and
            // SQLite's json_type see them); 1.5, 1e3 or 2^64-1 have no text value.
            sql.push("(CASE jsonb_typeof(metadata::jsonb -> ")
                .push_bind(key.clone())
                .push(") WHEN 'string' THEN metadata::jsonb ->> ")
                .push_bind(key.clone())
                .push(" WHEN 'boolean' THEN metadata::jsonb ->> ")
                .push_bind(key.clone())
                .push(" WHEN 'number' THEN CASE WHEN (metadata::jsonb ->> ")
                .push_bind(key.clone())
                .push(") ~ '^-?[0-9]+$' AND (metadata::jsonb -> ")
                .push_bind(key.clone())
                .push(
                    ")::numeric BETWEEN -9223372036854775808 AND 9223372036854775807 \
                     THEN metadata::jsonb ->> ",
                )
                .push_bind(key.clone())
                .push(" END END)");
        }
    }
}

/// True when the field has a value; for metadata, when the key holds anything but JSON null.
fn push_present<'a, DB>(sql: &mut QueryBuilder<'a, DB>, field: &Field, d: Dialect)
where
    DB: Database,
    String: Encode<'a, DB> + Type<DB>,
    Vec<u8>: Encode<'a, DB> + Type<DB>,
{
    match (field, d) {
        (Field::Metadata(key), Dialect::Sqlite) => {
            sql.push("COALESCE(json_type(metadata, ")
                .push_bind(format!("$.\"{key}\""))
                .push("), 'null') <> 'null'");
        }
        (Field::Metadata(key), Dialect::Postgres) => {
            sql.push("COALESCE(jsonb_typeof(metadata::jsonb -> ")
                .push_bind(key.clone())
                .push("), 'null') <> 'null'");
        }
        (f, _) => {
            sql.push(column(f).unwrap_or("NULL")).push(" IS NOT NULL");
        }
    }
}

/// `instr(lower(T), needle)` / `strpos(lower(T COLLATE "C"), needle)`: the 1-based position of the
/// ASCII-lowercased needle, 0 when absent, NULL when T is.
fn push_position<'a, DB>(sql: &mut QueryBuilder<'a, DB>, c: &Condition, d: Dialect)
where
    DB: Database,
    String: Encode<'a, DB> + Type<DB>,
    Vec<u8>: Encode<'a, DB> + Type<DB>,
{
    let needle = c
        .values
        .first()
        .map(|v| v.to_ascii_lowercase())
        .unwrap_or_default();
    match d {
        Dialect::Sqlite => {
            sql.push("instr(lower(");
            push_text(sql, &c.field, d);
            sql.push("), ");
        }
        Dialect::Postgres => {
            sql.push("strpos(lower(");
            push_text(sql, &c.field, d);
            sql.push(" COLLATE \"C\"), ");
        }
    }
    sql.push_bind(needle).push(")");
}

fn push_in_list<'a, DB>(sql: &mut QueryBuilder<'a, DB>, values: &[String])
where
    DB: Database,
    String: Encode<'a, DB> + Type<DB>,
    Vec<u8>: Encode<'a, DB> + Type<DB>,
{
    sql.push("(");
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.push_bind(v.clone());
    }
    sql.push(")");
}

fn push_condition<'a, DB>(sql: &mut QueryBuilder<'a, DB>, c: &Condition, d: Dialect)
where
    DB: Database,
    String: Encode<'a, DB> + Type<DB>,
    Vec<u8>: Encode<'a, DB> + Type<DB>,
{
    let first = c.values.first().cloned().unwrap_or_default();
    sql.push("(");
    match c.op {
        Op::Is => {
            push_text(sql, &c.field, d);
            sql.push(" = ").push_bind(first);
        }
        Op::IsNot => {
            push_text(sql, &c.field, d);
            sql.push(" IS NULL OR ");
            push_text(sql, &c.field, d);
            sql.push(" <> ").push_bind(first);
        }
        Op::Contains => {
            push_position(sql, c, d);
            sql.push(" > 0");
        }
        Op::NotContains => {
            push_text(sql, &c.field, d);
            sql.push(" IS NULL OR ");
            push_position(sql, c, d);
            sql.push(" = 0");
        }
        Op::StartsWith => {
            push_position(sql, c, d);
            sql.push(" = 1");
        }
        Op::AnyOf => {
            push_text(sql, &c.field, d);
            sql.push(" IN ");
            push_in_list(sql, &c.values);
        }
        Op::NoneOf => {
            push_text(sql, &c.field, d);
            sql.push(" IS NULL OR ");
            push_text(sql, &c.field, d);
            sql.push(" NOT IN ");
            push_in_list(sql, &c.values);
        }
        Op::Exists => push_present(sql, &c.field, d),
        Op::NotExists => {
            sql.push("NOT (");
            push_present(sql, &c.field, d);
            sql.push(")");
        }
        Op::InCidr => match (d, Cidr::parse(&first)) {
            // Stored addresses are canonical text, so the cast cannot fail; the range is bound
            // normalized (host bits cleared).
            (Dialect::Postgres, Some(net)) => {
                push_text(sql, &c.field, d);
                sql.push("::inet <<= CAST(")
                    .push_bind(net.to_string())
                    .push(" AS inet)");
            }
            // `ip_bin` keys sort by family, then address (migration 0002), so a range is a BETWEEN.
            (Dialect::Sqlite, Some(net)) => {
                let (lo, hi) = net.key_range();
                sql.push("ip_bin BETWEEN ")
                    .push_bind(lo)
                    .push(" AND ")
                    .push_bind(hi);
            }
            // Validation rules out a bad range; match nothing rather than everything.
            (_, None) => {
                sql.push("1 = 0");
            }
        },
    }
    sql.push(")");
}
