//! The host backend of the core's unit tests: tensors of `f64` values on the host, and the
//! small models the tests run. The backend crates depend on the core, so their backends
//! implement another build of it than the one the unit tests compile, and cannot serve here.

use crate::backend::{
    fill_occluded_batch, Backend, BaselineValue, ForwardFn, GradientBackend, HostBaseline, RegionBatch,
};
use crate::error::{Error, ModelError, Result};
use crate::model::{FnModel, FnMultiModel, Forward};

/// `f64` values of a shape, row-major.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct HostTensor {
    pub(crate) shape: Vec<usize>,
    pub(crate) data: Vec<f64>,
}

impl HostTensor {
    /// A tensor of `shape` holding `data`.
    pub(crate) fn new(shape: &[usize], data: Vec<f64>) -> Self {
        assert_eq!(shape.iter().product::<usize>(), data.len(), "test tensor of shape {shape:?}");
        HostTensor { shape: shape.to_vec(), data }
    }
}

/// A tensor of `shape` holding a copy of `data`.
pub(crate) fn tensor(shape: &[usize], data: &[f64]) -> HostTensor {
    HostTensor::new(shape, data.to_vec())
}

/// The backend of [`HostTensor`]s. Its gradients are those of a model whose output `F_r` is
/// the sum of row `r` (the only model the gradient tests differentiate): `∂F_r/∂x_{r,j} = 1`,
/// so every element of row `r` gets row `r`'s cotangent; it calls the model once per
/// gradient, as a real backend does.
pub(crate) struct Host;

impl Backend for Host {
    type Tensor = HostTensor;

    fn shape(tensor: &HostTensor) -> Vec<usize> {
        tensor.shape.clone()
    }

    fn to_f64_vec(tensor: &HostTensor) -> Result<Vec<f64>> {
        Ok(tensor.data.clone())
    }

    fn from_f64_slice(_like: &HostTensor, shape: &[usize], data: &[f64]) -> Result<HostTensor> {
        if shape.iter().product::<usize>() != data.len() {
            return Err(Error::backend("test host", format!("{} values for shape {shape:?}", data.len())));
        }
        Ok(HostTensor { shape: shape.to_vec(), data: data.to_vec() })
    }

    fn occluded_batch(
        input: &HostTensor,
        baseline: &BaselineValue<'_, Self>,
        regions: &RegionBatch<'_>,
    ) -> Result<HostTensor> {
        let baseline = match baseline {
            BaselineValue::Scalar(v) => HostBaseline::Scalar(*v),
            BaselineValue::PerPosition(b) => HostBaseline::PerPosition(&b.data),
            BaselineValue::PerExample(b) => HostBaseline::PerExample(&b.data),
        };
        let mut out = Vec::new();
        fill_occluded_batch(&input.data, baseline, regions, &mut out)?;
        Ok(HostTensor { shape: regions.batch_shape(), data: out })
    }
}

impl GradientBackend for Host {
    fn input_gradients(
        forward: &mut ForwardFn<'_, Self>,
        batches: &[&HostTensor],
        cotangent: &mut dyn FnMut(&[usize]) -> Result<Vec<f64>>,
    ) -> Result<Vec<HostTensor>> {
        let owned: Vec<HostTensor> = batches.iter().map(|&b| b.clone()).collect();
        let output = forward(&owned).map_err(Error::Model)?;
        let weights = cotangent(&output.shape)?;
        Ok(batches
            .iter()
            .map(|b| {
                let size = b.data.len() / b.shape[0];
                HostTensor { shape: b.shape.clone(), data: (0..b.data.len()).map(|i| weights[i / size]).collect() }
            })
            .collect())
    }
}

/// The sum of every example's elements: output `(N,)`.
pub(crate) fn row_sums(x: &HostTensor) -> HostTensor {
    let n = x.shape[0];
    let size = x.data.len() / n.max(1);
    HostTensor { shape: vec![n], data: x.data.chunks(size.max(1)).map(|r| r.iter().sum()).collect() }
}

/// A model of one input that sums every example.
pub(crate) fn sum_model() -> FnModel<Host, impl FnMut(&HostTensor) -> std::result::Result<HostTensor, String>> {
    FnModel::new(|x: &HostTensor| Ok(row_sums(x)))
}

/// A model of several inputs that sums every example of the first.
pub(crate) fn multi_sum_model(
) -> FnMultiModel<Host, impl FnMut(&[HostTensor]) -> std::result::Result<HostTensor, String>> {
    FnMultiModel::new(|xs: &[HostTensor]| Ok(row_sums(&xs[0])))
}

/// Two classes per row: the row's sum and its negation. Records the rows of every call.
#[derive(Default)]
pub(crate) struct SumModel {
    /// Rows of each call, in order.
    pub calls: Vec<usize>,
}

impl Forward for SumModel {
    type Backend = Host;

    fn forward(&mut self, batch: &HostTensor) -> std::result::Result<HostTensor, ModelError> {
        let rows = batch.shape[0];
        self.calls.push(rows);
        let sums = row_sums(batch);
        Ok(HostTensor { shape: vec![rows, 2], data: sums.data.iter().flat_map(|&s| [s, -s]).collect() })
    }
}
