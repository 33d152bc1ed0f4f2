//! Risk grades A (lowest risk) to E from the scorecard's score, by a grid of cut-offs.

/// A risk grade; A is the lowest risk.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Grade {
    A,
    B,
    C,
    D,
    E,
}

impl Grade {
    pub const ALL: [Grade; 5] = [Grade::A, Grade::B, Grade::C, Grade::D, Grade::E];

    pub fn as_str(self) -> &'static str {
        match self {
            Grade::A => "A",
            Grade::B => "B",
            Grade::C => "C",
            Grade::D => "D",
            Grade::E => "E",
        }
    }

    /// 0 for A to 4 for E: the index of per-grade tables such as
    /// [`BankPolicy::rate_bps_by_grade`](super::BankPolicy::rate_bps_by_grade).
    pub fn index(self) -> usize {
        match self {
            Grade::A => 0,
            Grade::B => 1,
            Grade::C => 2,
            Grade::D => 3,
            Grade::E => 4,
        }
    }
}

/// The least score of grades A, B, C and D; a score below D's is E. The cut-offs fall
/// strictly from A to D, so every score has exactly one grade.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GradeGrid {
    min_scores: [i64; 4],
}

impl GradeGrid {
    /// `None` unless `a > b > c > d`.
    pub fn new(a: i64, b: i64, c: i64, d: i64) -> Option<GradeGrid> {
        (a > b && b > c && c > d).then_some(GradeGrid {
            min_scores: [a, b, c, d],
        })
    }

    pub fn grade(&self, score: i64) -> Grade {
        Grade::ALL
            .into_iter()
            .zip(self.min_scores)
            .find(|(_, min)| score >= *min)
            .map_or(Grade::E, |(grade, _)| grade)
    }

    /// The least score of `grade`; `None` for E, which has none.
    pub fn min_score(&self, grade: Grade) -> Option<i64> {
        self.min_scores.get(grade.index()).copied()
    }
}
