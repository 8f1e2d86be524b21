//! Pages of lists. Every list the API answers has one shape, [`Page`]: `items`, the
//! `total` over every page, and the `limit` and `offset` that chose the page. Also: one
//! page of a list drawn from two sources in one order: rows the database sorts and pages
//! itself (those whose stored RAG holds), and a few rows the code had to derive.

use serde::Serialize;
use utoipa::ToSchema;

/// One page of a list: `items` at positions `offset .. offset + limit` of the whole list,
/// which holds `total` items.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Items in the whole list, every page.
    pub total: usize,
    pub limit: i64,
    pub offset: i64,
}

impl<T> Page<T> {
    /// The page of a whole list held in memory (short lists: one child's escalations, the
    /// accounts of a deployment).
    pub fn slice(all: Vec<T>, limit: usize, offset: usize) -> Page<T> {
        let total = all.len();
        let items = all.into_iter().skip(offset).take(limit).collect();
        Page::new(items, total, limit, offset)
    }

    pub fn new(items: Vec<T>, total: usize, limit: usize, offset: usize) -> Page<T> {
        Page {
            items,
            total,
            limit: i64::try_from(limit).unwrap_or(i64::MAX),
            offset: i64::try_from(offset).unwrap_or(i64::MAX),
        }
    }
}

/// Returns the rows at positions `offset .. offset + limit` of the merged order.
///
/// `derived` is every derived row, sorted. `paged` is the database's rows from index
/// `skip = offset.saturating_sub(derived.len())` on, at most `limit + offset - skip` of them
/// (fewer only at the end). That is enough: a derived row can push a paged row later, never
/// earlier, so no paged row before `skip` can reach the page, and a derived row that sorts
/// before every loaded paged row while `skip > 0` lands before `offset`. Keys are distinct.
pub fn merge_page<T, K: Ord>(
    paged: Vec<T>,
    skip: usize,
    derived: Vec<T>,
    offset: usize,
    limit: usize,
    key: impl Fn(&T) -> K,
) -> Vec<T> {
    let paged_keys: Vec<K> = paged.iter().map(&key).collect();
    let derived_keys: Vec<K> = derived.iter().map(&key).collect();
    let mut placed: Vec<(usize, T)> = Vec::new();
    for (j, row) in paged.into_iter().enumerate() {
        let before = derived_keys.partition_point(|k| *k < paged_keys[j]);
        placed.push((skip + j + before, row));
    }
    for (i, row) in derived.into_iter().enumerate() {
        let before = paged_keys.partition_point(|k| *k < derived_keys[i]);
        if before == 0 && skip > 0 {
            continue;
        }
        placed.push((skip + i + before, row));
    }
    placed.retain(|(pos, _)| (offset..offset.saturating_add(limit)).contains(pos));
    placed.sort_by_key(|(pos, _)| *pos);
    placed.into_iter().map(|(_, row)| row).collect()
}

/// How many paged rows to skip and load for [`merge_page`].
pub fn paged_window(offset: usize, limit: usize, derived: usize) -> (usize, usize) {
    let skip = offset.saturating_sub(derived);
    (skip, limit + (offset - skip))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_slice_counts_the_whole_list() {
        let page = Page::slice((1..=7).collect::<Vec<i32>>(), 3, 5);
        assert_eq!((page.items, page.total, page.limit, page.offset), (vec![6, 7], 7, 3, 5));
        let past_the_end = Page::slice(vec![1, 2], 10, 4);
        assert!(past_the_end.items.is_empty());
        assert_eq!(past_the_end.total, 2);
    }

    #[test]
    fn derived_rows_take_their_place_among_the_paged_ones() {
        // Merged order 1..=6; the database holds 1, 3, 4, 6 and the code derived 2 and 5.
        let page = |offset, limit| {
            let all = [1, 3, 4, 6];
            let (skip, take) = paged_window(offset, limit, 2);
            let paged: Vec<i32> = all.iter().copied().skip(skip).take(take).collect();
            merge_page(paged, skip, vec![2, 5], offset, limit, |n| *n)
        };
        assert_eq!(page(0, 3), [1, 2, 3]);
        assert_eq!(page(3, 3), [4, 5, 6]);
        assert_eq!(page(4, 10), [5, 6]);
        assert!(page(6, 3).is_empty());
    }

    proptest! {
        #[test]
        fn a_merged_page_is_the_slice_of_the_whole_sorted_list(
            sources in proptest::collection::vec(any::<bool>(), 0..80),
            offset in 0usize..90,
            limit in 1usize..30,
        ) {
            // Row n goes to the database or to the derived rows; the whole list is 0..len.
            let all: Vec<usize> = (0..sources.len()).collect();
            let db: Vec<usize> = all.iter().copied().filter(|n| sources[*n]).collect();
            let derived: Vec<usize> = all.iter().copied().filter(|n| !sources[*n]).collect();
            let (skip, take) = paged_window(offset, limit, derived.len());
            let paged: Vec<usize> = db.iter().copied().skip(skip).take(take).collect();
            let got = merge_page(paged, skip, derived, offset, limit, |n| *n);
            let want: Vec<usize> = all.into_iter().skip(offset).take(limit).collect();
            prop_assert_eq!(got, want);
        }
    }
}
