//! Rendering values as JSON (the product-wide contract in VALUES.md) and as text.
