//! The recalibration of p_late (rule "Recalibrated, monotone" in the module above): Platt
//! scaling of the step model's probability, fitted from forecasts whose outcomes were
//! known when the parameters were fitted.

use serde::{Deserialize, Serialize};

use crate::workflow::Kind;

/// Below this many forecasts with a known outcome a map is not fitted (identity): a
/// handful of outcomes would bend the model's probabilities more than they say.
pub const MIN_PAIRS: usize = 500;
/// The model's probabilities are read on the log-odds scale within these bounds (a 0 or 1
/// has no log-odds).
const P_FLOOR: f64 = 1e-6;

/// A map from the step model's probability p to the forecast's:
/// sigmoid(intercept + slope * logit(p)), slope >= 0 so it never decreases. The identity
/// when fitted on nothing (`cases` 0).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recalibration {
    /// How many forecasts (with a known outcome) it was fitted on.
    pub cases: u32,
    pub intercept: f64,
    pub slope: f64,
}

impl Default for Recalibration {
    fn default() -> Self {
        Recalibration {
            cases: 0,
            intercept: 0.0,
            slope: 1.0,
        }
    }
}

impl Recalibration {
    /// Fitted by maximum likelihood (Newton's method on the two coefficients) to
    /// (model probability, late) pairs. The identity when there are fewer than [`MIN_PAIRS`].
    pub fn fit(pairs: &[(f64, bool)]) -> Recalibration {
        let xs: Vec<(f64, f64)> = pairs
            .iter()
            .filter(|(p, _)| p.is_finite())
            .map(|(p, l)| (logit(*p), if *l { 1.0 } else { 0.0 }))
            .collect();
        if xs.len() < MIN_PAIRS {
            return Recalibration::default();
        }
        let (mut a, mut b) = (0.0f64, 1.0f64);
        for _ in 0..50 {
            let (mut g0, mut g1, mut h00, mut h01, mut h11) = (0.0, 0.0, 0.0, 0.0, 0.0);
            for (x, y) in &xs {
                let q = sigmoid(a + b * x);
                let w = (q * (1.0 - q)).max(1e-12);
                g0 += q - y;
                g1 += (q - y) * x;
                h00 += w;
                h01 += w * x;
                h11 += w * x * x;
            }
            let det = h00 * h11 - h01 * h01;
            if det.abs() < 1e-12 {
                break;
            }
            let da = (h11 * g0 - h01 * g1) / det;
            let db = (h00 * g1 - h01 * g0) / det;
            // Bounded, so outcomes that separate perfectly cannot run off to infinity.
            a = (a - da).clamp(-20.0, 20.0);
            b = (b - db).clamp(0.0, 10.0);
            if da.abs() < 1e-10 && db.abs() < 1e-10 {
                break;
            }
        }
        Recalibration {
            cases: u32::try_from(xs.len()).unwrap_or(u32::MAX),
            intercept: a,
            slope: b,
        }
    }

    /// The forecast's probability for the model's `p`.
    pub fn apply(&self, p: f64) -> f64 {
        if self.is_identity() {
            return p.clamp(0.0, 1.0);
        }
        sigmoid(self.intercept + self.slope.max(0.0) * logit(p)).clamp(0.0, 1.0)
    }

    pub fn is_identity(&self) -> bool {
        self.cases == 0
    }
}

/// The recalibration of the assessments of one kind, in or out of area, whose first step
/// had started on the day of the forecast or not (an RHA before its booking window).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentRecalibration {
    pub kind: Kind,
    pub out_of_area: bool,
    pub started: bool,
    pub map: Recalibration,
    /// Never more than this map (for a segment not started: its kind and area's started
    /// map, so that the booking window opening never lowers the risk).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_most: Option<Recalibration>,
}

impl SegmentRecalibration {
    pub fn apply(&self, p: f64) -> f64 {
        let y = self.map.apply(p);
        self.at_most.as_ref().map_or(y, |m| y.min(m.apply(p)))
    }
}

/// What a recalibration learns from: (kind, out of area, started, the step model's
/// probability, late).
pub type Pair = (Kind, bool, bool, f64, bool);

/// The maps for every kind, area and start: fitted from each one's own (kind, out of area,
/// started, model probability, late) pairs where there are enough, otherwise its kind and
/// area's started map (or the identity).
pub fn fit_segments(pairs: &[Pair]) -> Vec<SegmentRecalibration> {
    let of = |keep: &dyn Fn(&Pair) -> bool| -> Vec<(f64, bool)> {
        pairs.iter().filter(|p| keep(p)).map(|p| (p.3, p.4)).collect()
    };
    let mut out = Vec::new();
    for kind in [Kind::Iha, Kind::Rha] {
        for out_of_area in [false, true] {
            let same = |p: &Pair| p.0 == kind && p.1 == out_of_area;
            let started = Recalibration::fit(&of(&|p| same(p) && p.2));
            let mut waiting = Recalibration::fit(&of(&|p| same(p) && !p.2));
            if waiting.is_identity() {
                waiting = started.clone();
            }
            out.push(SegmentRecalibration {
                kind,
                out_of_area,
                started: false,
                map: waiting,
                at_most: Some(started.clone()),
            });
            out.push(SegmentRecalibration {
                kind,
                out_of_area,
                started: true,
                map: started,
                at_most: None,
            });
        }
    }
    out
}

fn logit(p: f64) -> f64 {
    let p = p.clamp(P_FLOOR, 1.0 - P_FLOOR);
    (p / (1.0 - p)).ln()
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}
