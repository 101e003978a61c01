//! Procedural macros of the migrate toolkit.
