//! States kept in TEXT columns (claim status, ...): written by name, read back into the
//! enum on both backends, and an unknown name in the database is an error, never a default.

/// A closed set of states, each with the name it has in its column and in JSON.
pub trait TextState: Sized + Copy + 'static {
    const ALL: &'static [Self];

    fn as_str(self) -> &'static str;

    fn parse(text: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .copied()
            .find(|state| state.as_str() == text)
    }
}

/// Declares a state enum with the name of each variant in its column (the snake case
/// of the variant, as in JSON), and maps it to TEXT:
///
/// ```text
/// text_state! {
///     /// Where an objection stands.
///     pub enum ObjectionStatus { Open = "open", Upheld = "upheld", Dismissed = "dismissed", }
/// }
/// ```
#[macro_export]
macro_rules! text_state {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$variant_meta:meta])* $variant:ident = $text:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(
            Clone,
            Copy,
            Debug,
            PartialEq,
            Eq,
            Hash,
            serde::Serialize,
            serde::Deserialize,
            utoipa::ToSchema,
            diesel::expression::AsExpression,
            diesel::deserialize::FromSqlRow,
        )]
        #[diesel(sql_type = diesel::sql_types::Text)]
        // JSON spells each variant in snake case; the column name must be that spelling
        // too (`assert_names_round_trip` checks it for every state).
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $( $(#[$variant_meta])* $variant, )+
        }

        impl $crate::db::TextState for $name {
            const ALL: &'static [Self] = &[$($name::$variant),+];

            fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        $crate::text_state_column!($name);
    };
}

/// Maps a [`TextState`] (deriving `AsExpression` and `FromSqlRow` with
/// `#[diesel(sql_type = Text)]`) to TEXT on SQLite, PostgreSQL and the `MultiBackend`;
/// [`text_state!`] calls it.
#[macro_export]
macro_rules! text_state_column {
    ($state:ty) => {
        const _: () = {
            use diesel::deserialize::{self, FromSql};
            use diesel::pg::Pg;
            use diesel::serialize::{self, IsNull, Output, ToSql};
            use diesel::sql_types::Text;
            use diesel::sqlite::Sqlite;
            use $crate::db::MultiBackend;
            use $crate::db::TextState;

            fn read(text: String) -> deserialize::Result<$state> {
                <$state as TextState>::parse(&text).ok_or_else(|| {
                    format!("unknown {} {text:?} in the database", stringify!($state)).into()
                })
            }

            impl FromSql<Text, Sqlite> for $state {
                fn from_sql(
                    value: <Sqlite as diesel::backend::Backend>::RawValue<'_>,
                ) -> deserialize::Result<Self> {
                    read(<String as FromSql<Text, Sqlite>>::from_sql(value)?)
                }
            }

            impl FromSql<Text, Pg> for $state {
                fn from_sql(
                    value: <Pg as diesel::backend::Backend>::RawValue<'_>,
                ) -> deserialize::Result<Self> {
                    read(<String as FromSql<Text, Pg>>::from_sql(value)?)
                }
            }

            impl FromSql<Text, MultiBackend> for $state {
                fn from_sql(
                    value: <MultiBackend as diesel::backend::Backend>::RawValue<'_>,
                ) -> deserialize::Result<Self> {
                    value.from_sql::<$state, Text>()
                }
            }

            impl ToSql<Text, Sqlite> for $state {
                fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
                    out.set_value(TextState::as_str(*self));
                    Ok(IsNull::No)
                }
            }

            impl ToSql<Text, Pg> for $state {
                fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
                    <str as ToSql<Text, Pg>>::to_sql(TextState::as_str(*self), &mut out.reborrow())
                }
            }

            impl ToSql<Text, MultiBackend> for $state {
                fn to_sql<'b>(
                    &'b self,
                    out: &mut Output<'b, '_, MultiBackend>,
                ) -> serialize::Result {
                    out.set_value((Text, self));
                    Ok(IsNull::No)
                }
            }
        };
    };
}

/// For each state's tests: every state reads back from its name, its JSON is that name,
/// and other spellings are nothing.
#[cfg(test)]
pub fn assert_names_round_trip<S>()
where
    S: TextState + PartialEq + std::fmt::Debug + serde::Serialize,
{
    for &state in S::ALL {
        assert_eq!(S::parse(state.as_str()), Some(state));
        let json = serde_json::to_value(state).expect("a state serializes");
        assert_eq!(json, state.as_str(), "{state:?}");
        assert_eq!(S::parse(&state.as_str().to_uppercase()), None);
    }
    assert_eq!(S::parse(""), None);
}
