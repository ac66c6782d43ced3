//! SPEC.md section 9, routes: who becomes a matter's responsible attorney when one handover is
//! split across several people.
//!
//! - A matter goes to the first route whose condition matches it (every criterion given must
//!   match; a route with none matches every matter), else to the matters' target.
//! - Routing decides only for matters that the status and privacy rules let move.
//! - `LEAST_LOADED`: in ascending matter order, the pool member with the fewest open matters as
//!   responsible attorney, counting what this plan already gave them (ties: lowest user id),
//!   among the members who may see the matter (all of them with `grantMatterAccess`).
//! - `ROUND_ROBIN`: the pool in its given order, cycling, skipping members who may not see the
//!   matter the same way.
//! - A pool none of whose members may see the matter routes it nowhere: `TARGET_NO_ACCESS`.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};

/// Which matters a route takes. Names are compared folded (case-insensitive).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    pub practice_areas: Option<BTreeSet<String>>,
    pub clients: Option<BTreeSet<String>>,
    pub matter_ids: Option<BTreeSet<i64>>,
}

/// What routing needs to know of a matter.
#[derive(Debug, Clone, Copy)]
pub struct MatterTraits<'a> {
    pub id: i64,
    pub practice_area: Option<&'a str>,
    pub client: &'a str,
}

impl Condition {
    /// Every criterion given matches.
    pub fn matches(&self, m: &MatterTraits) -> bool {
        let named = |set: &Option<BTreeSet<String>>, value: Option<&str>| {
            set.as_ref()
                .is_none_or(|set| value.is_some_and(|v| set.contains(&entity::fold(v.trim()))))
        };
        named(&self.practice_areas, m.practice_area)
            && named(&self.clients, Some(m.client))
            && self.matter_ids.as_ref().is_none_or(|ids| ids.contains(&m.id))
    }

    /// It matches on a matter's practice area or client (a selection reads those only then).
    pub fn matches_names(&self) -> bool {
        self.practice_areas.is_some() || self.clients.is_some()
    }

    /// No criterion: the route takes every matter.
    pub fn is_catch_all(&self) -> bool {
        self.practice_areas.is_none() && self.clients.is_none() && self.matter_ids.is_none()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Strategy {
    LeastLoaded,
    RoundRobin,
}

/// Who a route gives its matters to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Receiver {
    User(i64),
    Pool { members: Vec<i64>, strategy: Strategy },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Route {
    pub when: Condition,
    pub to: Receiver,
}

impl Route {
    /// Everyone this route may give a matter to.
    pub fn receivers(&self) -> &[i64] {
        match &self.to {
            Receiver::User(id) => std::slice::from_ref(id),
            Receiver::Pool { members, .. } => members,
        }
    }
}

/// Routing state across the matters of one plan: the loads so far and each round robin's place.
/// Feed it matters in ascending id order.
pub struct Router<'a> {
    routes: &'a [Route],
    default: Option<i64>,
    /// Open matters as responsible attorney, plus what this plan gave.
    load: HashMap<i64, i64>,
    next: Vec<usize>,
}

impl<'a> Router<'a> {
    /// `open_matters`: each pool member's open matters now (absent: none).
    pub fn new(routes: &'a [Route], default: Option<i64>, open_matters: HashMap<i64, i64>) -> Self {
        Router {
            routes,
            default,
            load: open_matters,
            next: vec![0; routes.len()],
        }
    }

    /// The new responsible attorney of a matter that may move, or `None` when no one it routes
    /// to may see it. `may_see(user)`: the user satisfies the matter's permission.
    pub fn route(&mut self, matter: &MatterTraits, may_see: impl Fn(i64) -> bool, grant_access: bool) -> Option<i64> {
        let eligible = |user: i64| grant_access || may_see(user);
        let chosen = match self.routes.iter().position(|r| r.when.matches(matter)) {
            None => self.default?,
            Some(i) => match &self.routes[i].to {
                Receiver::User(user) => *user,
                Receiver::Pool {
                    members,
                    strategy: Strategy::LeastLoaded,
                } => *members
                    .iter()
                    .filter(|m| eligible(**m))
                    .min_by_key(|m| (self.load.get(m).copied().unwrap_or(0), **m))?,
                Receiver::Pool {
                    members,
                    strategy: Strategy::RoundRobin,
                } => {
                    let start = self.next[i];
                    let offset = (0..members.len()).find(|k| eligible(members[(start + k) % members.len()]))?;
                    let at = (start + offset) % members.len();
                    self.next[i] = at + 1;
                    members[at]
                }
            },
        };
        // What moves counts towards the receiver's load; a matter refused for access does not.
        if eligible(chosen) {
            *self.load.entry(chosen).or_default() += 1;
        }
        Some(chosen)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matter(id: i64, area: &str, client: &str) -> MatterTraits<'static> {
        let area: &'static str = Box::leak(area.to_string().into_boxed_str());
        let client: &'static str = Box::leak(client.to_string().into_boxed_str());
        MatterTraits {
            id,
            practice_area: Some(area),
            client,
        }
    }

    fn set(items: &[&str]) -> Option<BTreeSet<String>> {
        Some(items.iter().map(|s| entity::fold(s)).collect())
    }

    #[test]
    fn first_match_wins_and_criteria_all_apply() {
        let routes = vec![
            Route {
                when: Condition {
                    practice_areas: set(&["Litigation"]),
                    clients: set(&["Acme"]),
                    ..Default::default()
                },
                to: Receiver::User(10),
            },
            Route {
                when: Condition {
                    practice_areas: set(&["litigation"]),
                    ..Default::default()
                },
                to: Receiver::User(11),
            },
        ];
        let mut r = Router::new(&routes, Some(99), HashMap::new());
        assert_eq!(r.route(&matter(1, "Litigation", "ACME"), |_| true, false), Some(10));
        assert_eq!(r.route(&matter(2, "LITIGATION ", "Other"), |_| true, false), Some(11));
        assert_eq!(r.route(&matter(3, "Estates", "Acme"), |_| true, false), Some(99));
    }

    #[test]
    fn names_match_folded_whatever_the_script() {
        let routes = vec![Route {
            when: Condition {
                clients: set(&["Ärzte Überörtlich GmbH", "ΣΟΦΙΑ"]),
                ..Default::default()
            },
            to: Receiver::User(7),
        }];
        let mut r = Router::new(&routes, None, HashMap::new());
        assert_eq!(
            r.route(&matter(1, "x", "ärzte überörtlich gmbh"), |_| true, false),
            Some(7)
        );
        assert_eq!(r.route(&matter(2, "x", "σοφια"), |_| true, false), Some(7));
        assert_eq!(
            r.route(&matter(3, "x", "Arzte"), |_| true, false),
            None,
            "no default, no match"
        );
    }

    #[test]
    fn least_loaded_counts_what_the_plan_gave_and_breaks_ties_by_id() {
        let routes = vec![Route {
            when: Condition::default(),
            to: Receiver::Pool {
                members: vec![30, 20, 10],
                strategy: Strategy::LeastLoaded,
            },
        }];
        // 10 holds 2, 20 holds 0, 30 holds 1.
        let mut r = Router::new(&routes, None, HashMap::from([(10, 2), (30, 1)]));
        let got: Vec<i64> = (1..=6)
            .map(|id| r.route(&matter(id, "x", "y"), |_| true, false).unwrap())
            .collect();
        // 20 (0) → 20 (1 vs 30's 1: tie, 20 lower) → 30 → 10 (all at 2: 10 lowest) → 20 → 30.
        assert_eq!(got, vec![20, 20, 30, 10, 20, 30]);
    }

    #[test]
    fn pools_skip_members_without_access_unless_granted() {
        let routes = vec![Route {
            when: Condition::default(),
            to: Receiver::Pool {
                members: vec![1, 2, 3],
                strategy: Strategy::RoundRobin,
            },
        }];
        let mut r = Router::new(&routes, None, HashMap::new());
        let not_2 = |u: i64| u != 2;
        assert_eq!(r.route(&matter(1, "x", "y"), not_2, false), Some(1));
        assert_eq!(r.route(&matter(2, "x", "y"), not_2, false), Some(3), "2 skipped");
        assert_eq!(r.route(&matter(3, "x", "y"), not_2, false), Some(1), "cycles");
        assert_eq!(
            r.route(&matter(4, "x", "y"), |_| false, false),
            None,
            "no one may see it"
        );
        assert_eq!(
            r.route(&matter(5, "x", "y"), not_2, true),
            Some(2),
            "granted: no one skipped"
        );
    }
}
