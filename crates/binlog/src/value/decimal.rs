//! DECIMAL/NEWDECIMAL: exact decoding to text, never through floating point.
