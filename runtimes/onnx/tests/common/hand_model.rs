//! ONNX models encoded by hand (a few protobuf fields, no `onnx` package), for declarations
//! the fixtures' generator cannot or should not make: a batch of 0, a negative dimension.

use std::path::PathBuf;

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

fn int(field: u64, n: i64) -> Vec<u8> {
    [varint(field << 3), varint(n as u64)].concat()
}

fn bytes(field: u64, b: impl AsRef<[u8]>) -> Vec<u8> {
    let b = b.as_ref();
    [varint(field << 3 | 2), varint(b.len() as u64), b.to_vec()].concat()
}

/// A dimension: a number, or a symbol.
pub enum Dim {
    /// `dim_value`.
    Value(i64),
    /// `dim_param`.
    Symbol(&'static str),
}

/// An f32 tensor's `ValueInfoProto`.
pub fn f32_info(name: &str, dims: &[Dim]) -> Vec<u8> {
    let shape: Vec<u8> = dims
        .iter()
        .flat_map(|d| {
            bytes(
                1,
                match d {
                    Dim::Value(v) => int(1, *v),
                    Dim::Symbol(s) => bytes(2, s),
                },
            )
        })
        .collect();
    [bytes(1, name), bytes(2, bytes(1, [int(1, 1), bytes(2, shape)].concat()))].concat()
}

/// A node `op(inputs) -> outputs` with integer-list attributes `ints` and integer ones `int`.
pub fn node(op: &str, inputs: &[&str], outputs: &[&str], ints: &[(&str, &[i64])], ints1: &[(&str, i64)]) -> Vec<u8> {
    let mut out: Vec<u8> = inputs.iter().flat_map(|i| bytes(1, i)).collect();
    out.extend(outputs.iter().flat_map(|o| bytes(2, o)));
    out.extend(bytes(4, op));
    for (name, values) in ints {
        let mut a = bytes(1, name);
        a.extend(values.iter().flat_map(|&v| int(8, v)));
        a.extend(int(20, 7));
        out.extend(bytes(5, a));
    }
    for (name, value) in ints1 {
        out.extend(bytes(5, [bytes(1, name), int(3, *value), int(20, 2)].concat()));
    }
    out
}

/// Writes a model of `nodes`, `inputs` and `outputs` (opset 13) as `name` in the tests' scratch
/// folder and returns its path.
pub fn write(name: &str, nodes: &[Vec<u8>], inputs: &[Vec<u8>], outputs: &[Vec<u8>]) -> PathBuf {
    let mut graph: Vec<u8> = nodes.iter().flat_map(|n| bytes(1, n)).collect();
    graph.extend(bytes(2, "g"));
    graph.extend(inputs.iter().flat_map(|i| bytes(11, i)));
    graph.extend(outputs.iter().flat_map(|o| bytes(12, o)));
    let model = [int(1, 8), bytes(8, [bytes(1, ""), int(2, 13)].concat()), bytes(7, graph)].concat();
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::write(&path, model).expect("the scratch folder is writable");
    path
}
