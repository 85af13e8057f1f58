//! Page-by-page books for phones that show one screen of entries at a time and follow
//! soft-key links for the next and previous screen (Cisco, snom minibrowser).

/// Which page a phone asked for, and how to write the URL of another page.
pub struct PageRequest<'a> {
    /// 1-based; a page past the end shows the last page.
    pub page: usize,
    pub link: &'a dyn Fn(usize) -> String,
}

/// One screen: the items on it and the links to its neighbours.
pub struct Page<'a, T> {
    pub items: &'a [T],
    pub number: usize,
    pub pages: usize,
    pub prev: Option<String>,
    pub next: Option<String>,
}

pub fn paginate<'a, T>(items: &'a [T], size: usize, req: &PageRequest<'_>) -> Page<'a, T> {
    let size = size.max(1);
    let pages = items.len().div_ceil(size).max(1);
    let number = req.page.clamp(1, pages);
    let start = (number - 1) * size;
    let end = (start + size).min(items.len());
    Page {
        items: &items[start.min(items.len())..end],
        number,
        pages,
        prev: (number > 1).then(|| (req.link)(number - 1)),
        next: (number < pages).then(|| (req.link)(number + 1)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_clamp_and_link_their_neighbours() {
        let items: Vec<u32> = (1..=70).collect();
        let link = |n: usize| format!("p{n}");
        let p = paginate(
            &items,
            32,
            &PageRequest {
                page: 1,
                link: &link,
            },
        );
        assert_eq!(
            (p.items.len(), p.pages, p.prev.as_deref(), p.next.as_deref()),
            (32, 3, None, Some("p2"))
        );
        let p = paginate(
            &items,
            32,
            &PageRequest {
                page: 3,
                link: &link,
            },
        );
        assert_eq!(p.items, &items[64..]);
        assert_eq!((p.prev.as_deref(), p.next.as_deref()), (Some("p2"), None));
        let p = paginate(
            &items,
            32,
            &PageRequest {
                page: 99,
                link: &link,
            },
        );
        assert_eq!(p.number, 3);
        let none: Vec<u32> = Vec::new();
        let p = paginate(
            &none,
            32,
            &PageRequest {
                page: 0,
                link: &link,
            },
        );
        assert_eq!((p.items.len(), p.number, p.pages), (0, 1, 1));
    }
}
