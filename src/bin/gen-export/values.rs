//! Analyte values of a panel: first every result the patient would have, drawn jointly from the
//! scenario ([`Latent`]), then which tests were ordered, which decides the cells that are filled.
//!
//! The draws happen in a fixed order (Hb, red cells, iron, inflammation, vitamins, chemistry,
//! then the orders), whether or not a test ends up ordered: that keeps the random stream of a row,
//! and so the file, independent of the ordering decisions.

use crate::columns::{
    B12, CALCIUM, CREATININE, CRP, EGFR, ESR, FERRITIN, FOLATE, HB, IRON, MCV, RBC, RDW, RETIC,
    STFR, TIBC, TRANSFERRIN, TSAT,
};
use crate::panel::{Panel, Value};
use crate::rng::Rng;
use crate::scenario::Scenario as S;

/// Every result the patient would have if every test were ordered.
struct Latent {
    hb: f64,
    mcv: f64,
    rbc: f64,
    rdw: f64,
    ferritin: f64,
    tsat: f64,
    tibc: f64,
    crp: f64,
    esr: f64,
    b12: f64,
    folate: f64,
    calcium: f64,
    creatinine: f64,
    egfr: f64,
}

pub(crate) fn round_to(x: f64, decimals: i32) -> f64 {
    let f = 10f64.powi(decimals);
    (x * f).round() / f
}

impl Panel {
    /// Fills `values` for `scenario`; `age` is the drawn age even when the age cell is blank.
    pub(crate) fn generate_values(&mut self, scenario: S, age: f64, rng: &mut Rng) {
        let ckd = self.conditions.contains(&"chronic_kidney_disease");
        let latent = self.draw_latent(scenario, age, ckd, rng);
        self.order_hb(scenario, latent.hb, rng);
        self.order_blood_count(scenario, &latent, rng);
        let iron_studies_needed = !matches!(
            scenario,
            S::Healthy | S::B12FolateWithoutAnemia | S::AnemiaUntested | S::Insufficient
        );
        if iron_studies_needed || rng.chance(0.55) {
            self.order_iron_studies(scenario, &latent, iron_studies_needed, rng);
        }
        self.order_inflammation(scenario, &latent, rng);
        self.order_vitamins_and_chemistry(scenario, &latent, ckd, rng);
        let v = &mut self.values;
        // A panel must carry at least one result, or it is a row to reject rather than a case.
        if scenario == S::Insufficient
            && v[HB] == Value::Blank
            && v.iter().all(|c| *c == Value::Blank)
        {
            v[MCV] = Value::Number(latent.mcv);
        }
    }

    /// The Hb cutoff (g/dL) the engine will apply, approximately (WHO 2024 with adjustments).
    fn hb_cutoff(&self, age: f64) -> f64 {
        let base = if !self.pregnant.is_empty() {
            11.0
        } else if age < 2.0 {
            10.5
        } else if age < 5.0 {
            11.0
        } else if age < 12.0 {
            11.5
        } else if age < 15.0 || self.sex != "M" {
            12.0
        } else {
            13.0
        };
        let altitude = self.altitude_m.map_or(0.0, |a| (a / 1000.0 * 0.7).min(3.3));
        let smoking = match (self.cigarettes_per_day, self.smoker) {
            (Some(c), _) if c >= 20.0 => 0.6,
            (Some(c), _) if c >= 10.0 => 0.5,
            (Some(_), _) | (None, "yes") => 0.3,
            _ => 0.0,
        };
        base + altitude + smoking
    }

    fn draw_latent(&self, scenario: S, age: f64, ckd: bool, rng: &mut Rng) -> Latent {
        let hb = self.draw_hb(scenario, age, rng);
        let (mcv, rbc, rdw) = draw_red_cells(scenario, hb, rng);
        let (ferritin, tsat, tibc) = draw_iron(scenario, rng);
        let (crp, esr) = draw_inflammation(scenario, rng);
        let (b12, folate) = draw_vitamins(scenario, rng);
        let (calcium, creatinine, egfr) = draw_chemistry(scenario, ckd, rng);
        Latent {
            hb,
            mcv,
            rbc,
            rdw,
            ferritin,
            tsat,
            tibc,
            crp,
            esr,
            b12,
            folate,
            calcium,
            creatinine,
            egfr,
        }
    }

    /// Anemic scenarios fall below the cutoff, the others land above it.
    fn draw_hb(&self, scenario: S, age: f64, rng: &mut Rng) -> f64 {
        let cutoff = self.hb_cutoff(age);
        // Sex unknown adults are only "not anemic" from 13 g/dL on.
        let healthy_floor = if self.sex == "F" || self.sex == "M" || !self.pregnant.is_empty() {
            cutoff
        } else {
            cutoff.max(13.0)
        };
        let hb = if scenario.anemic() {
            let severe = rng.chance(0.04);
            if severe || scenario == S::MyelomaPattern && rng.chance(0.3) {
                rng.uniform(5.0, 7.9)
            } else {
                cutoff - rng.lognormal(1.4, 1.8, 0.2, 5.0)
            }
        } else {
            healthy_floor + rng.lognormal(1.5, 1.6, 0.2, 5.0)
        };
        round_to(hb, 1)
    }

    /// Hb is always there, except in the insufficient scenario, which also makes the cases the
    /// engine cannot decide (unknown sex in the grey zone, infants) by rewriting the context.
    fn order_hb(&mut self, scenario: S, hb: f64, rng: &mut Rng) {
        if scenario != S::Insufficient {
            self.values[HB] = Value::Number(hb);
            return;
        }
        match rng.weighted(&[2, 1, 1]) {
            // Hb not measured.
            0 => {}
            // Sex unknown and Hb in the grey zone between the female and male cutoffs.
            1 => {
                self.values[HB] = Value::Number(round_to(rng.uniform(12.0, 12.9), 1));
                self.sex = "";
                self.pregnant = "";
                self.altitude_m = None;
                self.cigarettes_per_day = None;
                self.smoker = "";
            }
            // An infant under 6 months: out of scope.
            _ => {
                self.values[HB] = Value::Number(round_to(rng.uniform(9.0, 16.0), 1));
                self.age = Some(round_to(rng.uniform(0.05, 0.45), 2));
                self.pregnant = "";
            }
        }
    }

    /// RBC, MCV, RDW and reticulocytes; the scenarios defined by MCV always have it.
    fn order_blood_count(&mut self, scenario: S, latent: &Latent, rng: &mut Rng) {
        let v = &mut self.values;
        // The chance is drawn first whatever the scenario: the stream must not depend on it.
        if rng.chance(0.97)
            || matches!(
                scenario,
                S::ThalassemiaTrait | S::B12FolateAnemia | S::IronDeficiencyAnemia
            )
        {
            v[RBC] = Value::Number(latent.rbc);
            v[MCV] = Value::Number(latent.mcv);
        }
        if rng.chance(0.9) {
            v[RDW] = Value::Number(latent.rdw);
        }
        if rng.chance(0.15) {
            v[RETIC] = Value::Number(if scenario.anemic() {
                rng.uniform(0.4, 3.5)
            } else {
                rng.uniform(0.5, 2.0)
            });
        }
    }

    /// Ferritin with one of the ways labs report transport iron, and sometimes sTfR.
    fn order_iron_studies(&mut self, scenario: S, latent: &Latent, needed: bool, rng: &mut Rng) {
        let v = &mut self.values;
        v[FERRITIN] = Value::Number(latent.ferritin);
        let iron = latent.tsat * latent.tibc / 100.0;
        match rng.weighted(&[50, 25, 10, 15]) {
            0 => v[TSAT] = Value::Number(latent.tsat),
            1 => {
                v[IRON] = Value::Number(iron);
                v[TIBC] = Value::Number(latent.tibc);
            }
            2 => {
                v[IRON] = Value::Number(iron);
                v[TRANSFERRIN] = Value::Number(latent.tibc / 1.4);
            }
            _ if needed => v[TSAT] = Value::Number(latent.tsat),
            _ => {}
        }
        if rng.chance(0.08) {
            let stfr = match scenario {
                S::IronDeficiencyAnemia | S::CombinedIronB12 => rng.uniform(3.5, 8.0),
                S::MixedIronDeficiencyInflammation => rng.uniform(2.8, 6.0),
                _ => rng.uniform(0.8, 1.8),
            };
            v[STFR] = Value::Number(stfr);
        }
    }

    /// CRP and ESR. The untested anemic gets a CRP that says "no inflammation" at most.
    fn order_inflammation(&mut self, scenario: S, latent: &Latent, rng: &mut Rng) {
        let v = &mut self.values;
        let crp_needed = scenario.inflamed() || scenario == S::AnemiaOther;
        if crp_needed && !(scenario.inflamed() && rng.chance(0.15)) || rng.chance(0.6) {
            v[CRP] = Value::Number(latent.crp);
        }
        if scenario.inflamed() && v[CRP] == Value::Blank {
            // No CRP: the ESR carries the inflammation.
            v[ESR] = Value::Number(latent.esr);
        }
        if scenario == S::MyelomaPattern || rng.chance(0.25) {
            v[ESR] = Value::Number(latent.esr);
        }
    }

    /// B12 and folate, then calcium, creatinine and eGFR (the myeloma screen's CRAB features).
    fn order_vitamins_and_chemistry(
        &mut self,
        scenario: S,
        latent: &Latent,
        ckd: bool,
        rng: &mut Rng,
    ) {
        let v = &mut self.values;
        if scenario.b12_folate_deficient() || rng.chance(0.3) {
            v[B12] = Value::Number(latent.b12);
            v[FOLATE] = Value::Number(latent.folate);
        }
        if scenario == S::MyelomaPattern || ckd || rng.chance(0.4) {
            v[CALCIUM] = Value::Number(latent.calcium);
            v[CREATININE] = Value::Number(latent.creatinine);
            if rng.chance(0.8) {
                v[EGFR] = Value::Number(latent.egfr);
            }
        }
    }
}

/// MCV, RBC and RDW; RBC follows Hb and MCV so that the indices stay consistent.
fn draw_red_cells(scenario: S, hb: f64, rng: &mut Rng) -> (f64, f64, f64) {
    let mcv = match scenario {
        S::IronDeficiencyAnemia => rng.normal(72.0, 5.0, 58.0, 82.0),
        S::ThalassemiaTrait => rng.normal(67.0, 4.0, 56.0, 76.0),
        S::B12FolateAnemia => rng.normal(110.0, 6.0, 99.0, 128.0),
        S::B12FolateWithoutAnemia => rng.normal(99.0, 5.0, 88.0, 112.0),
        S::MixedIronDeficiencyInflammation => rng.normal(79.0, 5.0, 68.0, 92.0),
        S::AnemiaOfInflammation => rng.normal(85.0, 5.0, 74.0, 96.0),
        S::IronDeficiencyWithoutAnemia => rng.normal(83.0, 5.0, 72.0, 94.0),
        _ => rng.normal(90.0, 4.5, 78.0, 103.0),
    };
    let rbc = if scenario == S::ThalassemiaTrait {
        rng.uniform(5.4, 6.6)
    } else {
        // MCH in pg is about a third of MCV in fL: RBC = Hb / MCH.
        let mch = mcv / 3.0 * rng.uniform(0.93, 1.05);
        (hb * 10.0 / mch).clamp(1.2, 7.5)
    };
    let rdw = match scenario {
        S::IronDeficiencyAnemia | S::CombinedIronB12 => rng.normal(17.0, 1.8, 13.5, 24.0),
        S::B12FolateAnemia | S::MixedIronDeficiencyInflammation => {
            rng.normal(15.8, 1.5, 12.5, 22.0)
        }
        S::ThalassemiaTrait => rng.normal(14.0, 0.8, 12.0, 16.0),
        _ => rng.normal(13.2, 0.7, 11.5, 16.0),
    };
    (mcv, rbc, rdw)
}

/// Ferritin, transferrin saturation and TIBC.
fn draw_iron(scenario: S, rng: &mut Rng) -> (f64, f64, f64) {
    let ferritin = match scenario {
        S::IronDeficiencyAnemia | S::CombinedIronB12 => rng.lognormal(9.0, 1.8, 1.5, 40.0),
        S::IronDeficiencyWithoutAnemia => rng.lognormal(12.0, 1.5, 2.0, 28.0),
        S::AnemiaOfInflammation | S::MyelomaPattern => rng.lognormal(320.0, 1.8, 110.0, 2500.0),
        S::MixedIronDeficiencyInflammation => {
            if rng.chance(0.3) {
                rng.uniform(5.0, 29.0)
            } else {
                rng.uniform(31.0, 98.0)
            }
        }
        S::IronOverload => rng.lognormal(900.0, 1.7, 420.0, 6000.0),
        _ => rng.lognormal(110.0, 1.7, 46.0, 600.0),
    };
    let tsat = match scenario {
        S::IronDeficiencyAnemia | S::CombinedIronB12 => rng.uniform(3.0, 14.0),
        S::IronDeficiencyWithoutAnemia => rng.uniform(8.0, 22.0),
        S::AnemiaOfInflammation | S::MyelomaPattern => rng.uniform(8.0, 30.0),
        S::MixedIronDeficiencyInflammation => rng.uniform(4.0, 17.5),
        S::IronOverload => rng.uniform(52.0, 92.0),
        _ => rng.uniform(21.0, 42.0),
    };
    let tibc = match scenario {
        S::IronDeficiencyAnemia | S::IronDeficiencyWithoutAnemia | S::CombinedIronB12 => {
            rng.uniform(370.0, 480.0)
        }
        S::AnemiaOfInflammation | S::MixedIronDeficiencyInflammation | S::MyelomaPattern => {
            rng.uniform(180.0, 270.0)
        }
        S::IronOverload => rng.uniform(200.0, 280.0),
        _ => rng.uniform(250.0, 380.0),
    };
    (ferritin, tsat, tibc)
}

/// CRP and ESR.
fn draw_inflammation(scenario: S, rng: &mut Rng) -> (f64, f64) {
    let crp = if scenario.inflamed() {
        rng.lognormal(35.0, 2.2, 6.0, 300.0)
    } else {
        rng.lognormal(1.2, 2.0, 0.1, 4.9)
    };
    let esr = match scenario {
        S::MyelomaPattern => rng.uniform(85.0, 135.0),
        _ if scenario.inflamed() => rng.uniform(32.0, 95.0),
        _ => rng.uniform(2.0, 19.0),
    };
    (crp, esr)
}

/// B12 and folate; a deficient patient lacks one of the two, mostly B12.
fn draw_vitamins(scenario: S, rng: &mut Rng) -> (f64, f64) {
    if scenario.b12_folate_deficient() {
        if rng.chance(0.7) {
            (rng.uniform(70.0, 195.0), rng.uniform(4.5, 16.0))
        } else {
            (rng.uniform(250.0, 700.0), rng.uniform(1.2, 3.8))
        }
    } else {
        (
            rng.lognormal(450.0, 1.4, 210.0, 1500.0),
            rng.uniform(4.5, 20.0),
        )
    }
}

/// Calcium, creatinine and eGFR: high calcium and kidney injury in the myeloma pattern.
fn draw_chemistry(scenario: S, ckd: bool, rng: &mut Rng) -> (f64, f64, f64) {
    if scenario == S::MyelomaPattern {
        (
            rng.uniform(10.2, 13.5),
            rng.uniform(1.2, 3.5),
            rng.uniform(15.0, 60.0),
        )
    } else if ckd {
        (
            rng.uniform(8.4, 10.2),
            rng.uniform(1.8, 4.5),
            rng.uniform(12.0, 55.0),
        )
    } else {
        (
            rng.normal(9.4, 0.4, 8.4, 10.4),
            rng.normal(0.9, 0.18, 0.45, 1.4),
            rng.normal(92.0, 18.0, 55.0, 135.0),
        )
    }
}
