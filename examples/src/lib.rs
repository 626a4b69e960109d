//! Components and helpers shared by the runnable programs.
