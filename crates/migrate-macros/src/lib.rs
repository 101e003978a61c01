//! The `embed!` macro of migrate, used as `migrate::embed!("migrations")` (see the `migrate` crate's
//! documentation for its use and the `build.rs` line it needs).
//!
//! At expansion the macro runs migrate-core's resolver and parser over the directory, the same code a
//! `DirectorySource` runs at run time, so a bad file fails the build with its `file:line` instead of failing
//! a deployment. It emits only `(file name, include_str!(absolute path))` pairs, handed to the facade's
//! hidden `::migrate::__private` module; the embedded text is parsed again at run time by the same code.

mod expand;

use proc_macro::TokenStream;

/// Embeds the migrations of a directory (relative to the crate's `Cargo.toml`) into the binary; see
/// `migrate::embed!`.
#[proc_macro]
pub fn embed(input: TokenStream) -> TokenStream {
    let literal = match syn::parse::<syn::LitStr>(input) {
        Ok(literal) => literal,
        Err(error) => {
            let message = format!("{error}: write embed!(\"migrations\"), a directory relative to Cargo.toml");
            return syn::Error::new(error.span(), message).to_compile_error().into();
        }
    };
    match expand::expand(&literal.value()) {
        Ok(tokens) => tokens.into(),
        // Every problem becomes a compile error at the macro call, never a panic in the compiler.
        Err(message) => syn::Error::new(literal.span(), message).to_compile_error().into(),
    }
}
