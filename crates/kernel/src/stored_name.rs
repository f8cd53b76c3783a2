//! Fieldless enums stored and shown by name.

/// Gives a fieldless enum `as_str`, its stored name (the same text its serde
/// form uses), and a `Display` that writes that name, from one table of
/// `Variant => "name"` rows. The match is exhaustive: a new variant must be
/// named here.
///
/// ```
/// #[derive(Clone, Copy)]
/// enum Light { Red, Green }
/// deedlog_kernel::stored_names!(Light { Red => "red", Green => "green" });
/// assert_eq!(Light::Green.as_str(), "green");
/// assert_eq!(Light::Red.to_string(), "red");
/// ```
#[macro_export]
macro_rules! stored_names {
    ($ty:ident { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $ty {
            /// The stored name, as its serde form writes it.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $name,)+
                }
            }
        }

        impl ::std::fmt::Display for $ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
