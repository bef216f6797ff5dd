//! Named choices (an optimizer, a solver, a step rule): each enum lists its values, their
//! names and a line of help once, and every front end parses and prints them from here (the
//! command line through clap, the Python package through the same names). A leaf module, so
//! that the numerical core needs no argument parser.

/// A closed set of named values.
pub trait Choice: Sized + Copy + Send + Sync + 'static {
    /// Every value, in the order the help lists them.
    const ALL: &'static [Self];

    /// Their names, in the same order (usable in constants: the settings' description).
    const NAMES: &'static [&'static str];

    /// The name on the command line and in the run JSON.
    fn name(self) -> &'static str;

    /// One line for `--help`.
    fn help(self) -> &'static str;

    /// The value named `name`.
    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|c| c.name() == name)
    }

    /// The names, comma-separated, for error messages.
    fn names() -> String {
        Self::ALL
            .iter()
            .map(|c| c.name())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Implements [`Choice`] and `FromStr` for an enum: `choice!(Enum { Variant => ("name",
/// "help"), … })`.
#[macro_export]
macro_rules! choice {
    ($ty:ty { $($variant:ident => ($name:literal, $help:literal)),+ $(,)? }) => {
        impl $crate::choice::Choice for $ty {
            const ALL: &'static [Self] = &[$(<$ty>::$variant),+];
            const NAMES: &'static [&'static str] = &[$($name),+];
            fn name(self) -> &'static str {
                match self { $(<$ty>::$variant => $name),+ }
            }
            fn help(self) -> &'static str {
                match self { $(<$ty>::$variant => $help),+ }
            }
        }
        impl $ty {
            /// The name, in constants (as [`Choice::name`](crate::choice::Choice::name)).
            pub const fn const_name(self) -> &'static str {
                match self { $(<$ty>::$variant => $name),+ }
            }
        }
        impl std::str::FromStr for $ty {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                <$ty as $crate::choice::Choice>::from_name(s).ok_or_else(|| {
                    format!(
                        "\"{s}\" is not one of {}",
                        <$ty as $crate::choice::Choice>::names()
                    )
                })
            }
        }
    };
}
