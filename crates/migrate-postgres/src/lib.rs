//! The postgres driver of the migrate toolkit.
