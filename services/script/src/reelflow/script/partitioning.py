"""Balanced contiguous partitions: cutting ordered sentences or paragraphs into evenly sized runs."""

import heapq
from bisect import bisect_left
from collections.abc import Callable, Sequence
from itertools import accumulate, pairwise

Span = tuple[int, int]


def balanced_partition(
    weights: Sequence[int],
    groups: int,
    *,
    max_run: int | None = None,
    allowed: Callable[[int, int], bool] | None = None,
) -> list[Span]:
    """Cut ``weights`` into ``groups`` contiguous, non-empty runs ``[start, end)`` of even total weight.

    "Even" means the smallest sum of squared run totals, which favours equal runs over one small
    and one large. Runs hold at most ``max_run`` items, and ``allowed(start, end)`` may rule out
    more (a one-item run is always allowed). The search costs ``groups × items × max_run`` steps,
    so pass ``max_run`` for long inputs. Ties are broken by a fixed scan order: the result is
    deterministic. Raises :class:`ValueError` when no partition into allowed runs exists.
    """
    count = len(weights)
    if not 1 <= groups <= count:
        raise ValueError(f"cannot cut {count} items into {groups} non-empty groups")
    longest = count if max_run is None else max(1, max_run)
    prefix = [0, *accumulate(weights)]

    def fits(start: int, end: int) -> bool:
        return end - start == 1 or allowed is None or allowed(start, end)

    # best[g][e]: the lowest cost of cutting the first e items into g runs; cut[g][e]: where the last run starts.
    infinity = float("inf")
    best = [[infinity] * (count + 1) for _ in range(groups + 1)]
    cut = [[0] * (count + 1) for _ in range(groups + 1)]
    best[0][0] = 0
    for g in range(1, groups + 1):
        # The last run ends where every run before it and after it can still have 1..longest items.
        for end in range(max(g, count - (groups - g) * longest), min(count - (groups - g), g * longest) + 1):
            for start in range(max(g - 1, end - longest), end):
                if best[g - 1][start] == infinity or not fits(start, end):
                    continue
                total = prefix[end] - prefix[start]
                cost = best[g - 1][start] + total * total
                if cost < best[g][end]:
                    best[g][end] = cost
                    cut[g][end] = start
    if best[groups][count] == infinity:
        raise ValueError(f"no partition of {count} items into {groups} allowed groups")
    spans: list[Span] = []
    end = count
    for g in range(groups, 0, -1):
        start = cut[g][end]
        spans.append((start, end))
        end = start
    return spans[::-1]


def proportional_partition(weights: Sequence[int], groups: int) -> list[Span]:
    """Cut ``weights`` into ``groups`` non-empty runs, each cut at the boundary nearest an equal share.

    Linear time, for inputs too long for :func:`balanced_partition` without a run limit.
    """
    count = len(weights)
    if not 1 <= groups <= count:
        raise ValueError(f"cannot cut {count} items into {groups} non-empty groups")
    prefix = [0, *accumulate(weights)]
    cuts = [0]
    for g in range(1, groups):
        share = prefix[-1] * g / groups
        nearest = bisect_left(prefix, share)
        if nearest > 0 and share - prefix[nearest - 1] <= prefix[min(nearest, count)] - share:
            nearest -= 1
        # Leave at least one item for this run and for every run after it.
        cuts.append(min(max(nearest, cuts[-1] + 1), count - (groups - g)))
    cuts.append(count)
    return list(pairwise(cuts))


def merge_smallest_adjacent(
    weights: Sequence[int],
    groups: int,
    *,
    cap: int,
    joiner: int = 0,
    allowed: Callable[[int, int], bool] | None = None,
) -> list[Span]:
    """Merge neighbouring items, the pair with the smallest combined weight first, until ``groups`` remain.

    A merged run weighs its parts plus ``joiner`` per join (the space between two texts); no run may
    weigh more than ``cap``, and ``allowed(start, end)`` may rule out more runs ``[start, end)``. Ties go to the
    earlier pair. When no neighbouring pair fits, merging stops early and more than ``groups`` runs are
    returned: the caller decides what to drop.
    """
    count = len(weights)
    weight = list(weights)
    end = [index + 1 for index in range(count)]
    following = [index + 1 for index in range(count)]
    preceding = [index - 1 for index in range(count)]
    version = [0] * count
    alive = [True] * count
    pairs: list[tuple[int, int, int, int, int]] = []

    def offer(left: int, right: int) -> None:
        if left >= 0 and right < count:
            combined = weight[left] + joiner + weight[right]
            if combined <= cap and (allowed is None or allowed(left, end[right])):
                heapq.heappush(pairs, (combined, left, right, version[left], version[right]))

    for index in range(count - 1):
        offer(index, index + 1)
    runs = count
    while runs > groups and pairs:
        _, left, right, left_version, right_version = heapq.heappop(pairs)
        if not (alive[left] and alive[right] and following[left] == right):
            continue
        if (version[left], version[right]) != (left_version, right_version):
            continue
        weight[left] += joiner + weight[right]
        end[left] = end[right]
        alive[right] = False
        following[left] = following[right]
        if following[left] < count:
            preceding[following[left]] = left
        version[left] += 1
        runs -= 1
        offer(preceding[left], left)
        offer(left, following[left])
    return [(index, end[index]) for index in range(count) if alive[index]]
