//! The declared dimensions of a model's inputs and outputs read straight from the ONNX file:
//! both runtimes report a negative `dim_value` as symbolic, which below −1 it is not (the file
//! is invalid), so it is found here and named ([`OnnxError::NegativeDimension`]); −1 is how
//! older exporters wrote a dynamic axis, and is left symbolic.
//!
//! A minimal protobuf walk over `ModelProto.graph (7) → GraphProto.input (11) / output (12) →
//! ValueInfoProto.name (1), type (2) → TypeProto.tensor_type (1) → shape (2) → dim (1) →
//! dim_value (1)`, bounds-checked: a file it cannot walk is left to the runtime to report.

use crate::onnx_error::OnnxError;

/// One field of a protobuf message: its number and its varint or bytes.
enum Value<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    Other,
}

fn varint(buf: &mut &[u8]) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let (&byte, rest) = buf.split_first()?;
        *buf = rest;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

/// The fields of `message`, or `None` when it is malformed.
fn fields(mut message: &[u8]) -> Option<Vec<(u64, Value<'_>)>> {
    let mut out = Vec::new();
    while !message.is_empty() {
        let key = varint(&mut message)?;
        let value = match key & 7 {
            0 => Value::Varint(varint(&mut message)?),
            1 | 5 => {
                let n = if key & 7 == 1 { 8 } else { 4 };
                message = message.get(n..)?;
                Value::Other
            }
            2 => {
                let len = usize::try_from(varint(&mut message)?).ok()?;
                let bytes = message.get(..len)?;
                message = &message[len..];
                Value::Bytes(bytes)
            }
            _ => return None,
        };
        out.push((key >> 3, value));
    }
    Some(out)
}

fn submessages(message: &[u8], field: u64) -> Vec<&[u8]> {
    fields(message)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(f, v)| match v {
            Value::Bytes(b) if f == field => Some(b),
            _ => None,
        })
        .collect()
}

/// The first negative dimension declared by an input or output of the model in `bytes`.
pub(crate) fn check_negative_dims(bytes: &[u8]) -> Result<(), OnnxError> {
    for graph in submessages(bytes, 7) {
        for (field, kind) in [(11, "input"), (12, "output")] {
            for info in submessages(graph, field) {
                let name = submessages(info, 1).first().map(|n| String::from_utf8_lossy(n).into_owned());
                let dims = submessages(info, 2)
                    .into_iter()
                    .flat_map(|t| submessages(t, 1))
                    .flat_map(|t| submessages(t, 2))
                    .flat_map(|s| submessages(s, 1));
                for (axis, dim) in dims.enumerate() {
                    for (f, v) in fields(dim).unwrap_or_default() {
                        if let (1, Value::Varint(v)) = (f, v) {
                            let value = v as i64;
                            // −1 is how older exporters (paddle2onnx before 1.0) wrote a
                            // dynamic axis, which both runtimes read as symbolic.
                            if value < -1 {
                                let name = name.clone().unwrap_or_default();
                                return Err(OnnxError::NegativeDimension { kind, name, axis, value });
                            }
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check_negative_dims;
    use crate::onnx_error::OnnxError;

    fn varint(mut n: u64) -> Vec<u8> {
        let mut out = Vec::new();
        loop {
            let b = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                out.push(b);
                return out;
            }
            out.push(b | 0x80);
        }
    }

    fn bytes(field: u64, b: &[u8]) -> Vec<u8> {
        [varint(field << 3 | 2), varint(b.len() as u64), b.to_vec()].concat()
    }

    fn model(dims: &[i64]) -> Vec<u8> {
        let dims: Vec<u8> = dims.iter().flat_map(|&d| bytes(1, &[varint(8), varint(d as u64)].concat())).collect();
        let info = [bytes(1, b"x"), bytes(2, &bytes(1, &[varint(8), varint(1), bytes(2, &dims)].concat()))].concat();
        bytes(7, &bytes(11, &info))
    }

    #[test]
    fn negative_dims_are_found_and_malformed_files_left_alone() {
        assert!(check_negative_dims(&model(&[1, 3])).is_ok());
        // paddle2onnx before 1.0 wrote dynamic axes as −1: still a model.
        assert!(check_negative_dims(&model(&[-1, 3])).is_ok());
        match check_negative_dims(&model(&[1, -5])) {
            Err(OnnxError::NegativeDimension { kind, name, axis, value }) => {
                assert_eq!((kind, name.as_str(), axis, value), ("input", "x", 1, -5))
            }
            other => panic!("{other:?}"),
        }
        let good = model(&[1, -5]);
        for cut in 0..good.len() {
            let _ = check_negative_dims(&good[..cut]); // never panics
        }
        assert!(check_negative_dims(&[0xff; 16]).is_ok());
    }
}
