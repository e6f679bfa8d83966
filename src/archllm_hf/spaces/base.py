"""The interface every search space implements.

A *cell* is an immutable, hashable value of the space (a frozen dataclass). The space object knows how to
parse and format the cell's native text form, validate it, compute its canonical id, and convert it to and
from the fixed-size graph encoding the models consume.

Graph encoding conventions, shared by all spaces so models need no space-specific code:

* ``adjacency``: ``int8`` array ``[num_nodes, num_nodes]``, strictly upper triangular (edge ``i -> j`` only
  for ``i < j``); only entries where :meth:`SearchSpace.adjacency_mask` is true may be 1.
* ``ops``: ``int64`` array ``[num_nodes]`` of ids into :attr:`SearchSpace.node_vocab`; id 0 is always
  ``"<pad>"`` and marks an unused node slot.
* ``mask``: ``bool`` array ``[num_nodes]``, true for used slots (``ops != 0``).
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from collections.abc import Hashable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

import numpy as np

from ..errors import InvalidCellError

PAD = "<pad>"

CellT = TypeVar("CellT", bound=Hashable)


@dataclass(frozen=True)
class Validity:
    """Whether a cell is valid in its space, and if not, why."""

    valid: bool
    reason: str | None = None

    def __bool__(self) -> bool:
        return self.valid


VALID = Validity(True)


@dataclass(frozen=True, eq=False)
class GraphEncoding:
    """Fixed-size graph form of a cell (see the module docstring for the conventions)."""

    adjacency: np.ndarray
    ops: np.ndarray
    mask: np.ndarray


@dataclass(frozen=True)
class DecodedCell(Generic[CellT]):
    """Result of decoding a graph (or anything else) that may not describe a valid cell. Never raised."""

    cell: CellT | None
    valid: bool
    reason: str | None = None
    id: str | None = None


class SearchSpace(ABC, Generic[CellT]):
    """A NAS search space: its cells, their text form, validity, canonical ids and graph encoding."""

    name: ClassVar[str]
    """Short name used on the command line and as the dataset config name (``nb101``, ``nb201``, ``darts``)."""
    text_column: ClassVar[str | None] = None
    """Dataset column holding :meth:`format` output (``arch_str``, ``genotype``), or None."""
    has_isomorphism_classes: ClassVar[bool] = False
    """Whether :meth:`isomorphism_id` is coarser than :meth:`canonical_id` (NB201); when False the two are equal."""
    num_nodes: int
    """Number of node slots in the graph encoding."""
    node_vocab: tuple[str, ...]
    """Node labels of the graph encoding; ``node_vocab[0] == "<pad>"``."""

    @property
    def space_kwargs(self) -> dict[str, Any]:
        """Keyword arguments that rebuild this space with ``get_space(space.name, **space.space_kwargs)``."""
        return {}

    # --- text form -------------------------------------------------------------------------------
    @abstractmethod
    def parse(self, text: str) -> CellT:
        """Parse the space's native text form. Raises :class:`InvalidCellError` naming what is wrong."""

    @abstractmethod
    def format(self, cell: CellT) -> str:
        """Native text form of ``cell``; ``parse(format(cell)) == cell``."""

    # --- semantics -------------------------------------------------------------------------------
    @abstractmethod
    def validate(self, cell: CellT) -> Validity:
        """Whether a well-formed cell is a valid architecture of the space, with the reason if not."""

    @abstractmethod
    def canonical_id(self, cell: CellT) -> str:
        """Id equal for exactly the cells the space treats as the same architecture.

        Raises :class:`InvalidCellError` for an invalid cell.
        """

    def isomorphism_id(self, cell: CellT) -> str:
        """Id of the cell's isomorphism class where the space has a coarser one (NB201's unique string);
        else the canonical id."""
        return self.canonical_id(cell)

    # --- graph encoding --------------------------------------------------------------------------
    @abstractmethod
    def adjacency_mask(self) -> np.ndarray:
        """``bool [num_nodes, num_nodes]``: the adjacency entries that may be non-zero."""

    @abstractmethod
    def to_graph(self, cell: CellT) -> GraphEncoding:
        """Fixed-size graph encoding of ``cell``."""

    @abstractmethod
    def from_graph(self, adjacency: np.ndarray, ops: np.ndarray) -> CellT:
        """Cell from a graph encoding; inverse of :meth:`to_graph`.

        Raises :class:`InvalidCellError` when the graph describes no cell of the space (the result may
        still be invalid per :meth:`validate`).
        """

    # --- enumeration and sampling ----------------------------------------------------------------
    def enumerate(self, progress: bool = False) -> Iterator[CellT]:
        """Every distinct cell of the space, one per canonical id (finite spaces only)."""
        raise NotImplementedError(f"{self.name} is too large to enumerate; use sample()")

    @abstractmethod
    def random_cell(self, rng: random.Random) -> CellT:
        """One cell drawn from the space's sampling distribution (valid by construction)."""

    # --- shared behaviour ------------------------------------------------------------------------
    @property
    def num_ops(self) -> int:
        return len(self.node_vocab)

    def sample(self, n: int, seed: int = 0, unique: bool = True) -> list[CellT]:
        """``n`` cells drawn with ``random_cell`` from a seeded generator, distinct by canonical id if ``unique``."""
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        return [cell for cell, _ in zip(self.iter_samples(seed=seed, unique=unique), range(n))]

    def iter_samples(self, seed: int = 0, unique: bool = True) -> Iterator[CellT]:
        """Endless stream of seeded samples; with ``unique``, no canonical id repeats."""
        rng = random.Random(seed)
        seen: set[str] = set()
        while True:
            cell = self.random_cell(rng)
            if unique:
                key = self.canonical_id(cell)
                if key in seen:
                    continue
                seen.add(key)
            yield cell

    def decode_graph(self, adjacency: Any, ops: Any) -> DecodedCell[CellT]:
        """Like :meth:`from_graph` followed by :meth:`validate` and :meth:`canonical_id`, but never raises."""
        try:
            adjacency, ops = np.asarray(adjacency), np.asarray(ops)
        except (ValueError, TypeError) as err:  # ragged or non-numeric nested input
            return DecodedCell(None, False, f"graph is not an array: {err}")
        try:
            cell = self.from_graph(adjacency, ops)
        except InvalidCellError as err:
            return DecodedCell(None, False, str(err))
        validity = self.validate(cell)
        if not validity:
            return DecodedCell(cell, False, validity.reason)
        return DecodedCell(cell, True, None, self.canonical_id(cell))

    def decode_text(self, text: Any) -> DecodedCell[CellT]:
        """Like :meth:`parse` followed by :meth:`validate` and :meth:`canonical_id`, but never raises."""
        if not isinstance(text, str):
            return DecodedCell(None, False, f"cell text must be a string, got {type(text).__name__}")
        try:
            cell = self.parse(text)
        except (InvalidCellError, RecursionError) as err:
            return DecodedCell(None, False, str(err) or type(err).__name__)
        validity = self.validate(cell)
        if not validity:
            return DecodedCell(cell, False, validity.reason)
        return DecodedCell(cell, True, None, self.canonical_id(cell))

    def check(self, cell: CellT) -> CellT:
        """Return ``cell`` if valid, else raise :class:`InvalidCellError` with the reason."""
        validity = self.validate(cell)
        if not validity:
            raise InvalidCellError(f"invalid {self.name} cell: {validity.reason}")
        return cell

    def to_record(self, cell: CellT) -> dict[str, Any]:
        """Dataset row: ``id``, ``adjacency``, ``operations``, ``num_vertices``, ``num_edges`` (+ text column).

        ``adjacency`` and ``operations`` are the graph encoding with unused slots removed.
        """
        graph = self.to_graph(cell)
        keep = np.flatnonzero(graph.mask)
        adjacency = graph.adjacency[np.ix_(keep, keep)]
        record: dict[str, Any] = {
            "id": self.canonical_id(cell),
            "adjacency": adjacency.astype(np.int8).tolist(),
            "operations": [self.node_vocab[i] for i in graph.ops[keep]],
            "num_vertices": int(len(keep)),
            "num_edges": int(adjacency.sum()),
        }
        if self.text_column is not None:
            record[self.text_column] = self.format(cell)
        record.update(self.extra_record(cell))
        return record

    def to_native(self, cell: CellT) -> Any:
        """JSON-ready native form of the cell (default: :meth:`format`)."""
        return self.format(cell)

    def from_record(self, record: dict[str, Any]) -> CellT:
        """Cell of a dataset row written by :meth:`to_record` (default: parse the text column)."""
        if self.text_column is None:
            raise NotImplementedError(f"{self.name} must override from_record")
        return self.parse(record[self.text_column])

    def extra_columns(self) -> dict[str, str]:
        """Space-specific dataset columns beyond the common ones, as ``{name: arrow dtype}``."""
        return {}

    def extra_record(self, cell: CellT) -> dict[str, Any]:
        """Values of :meth:`extra_columns` for ``cell``."""
        return {}

    # --- helpers for implementations -------------------------------------------------------------
    def _allowed_edges(self) -> np.ndarray:
        """:meth:`adjacency_mask` restricted to the strict upper triangle, computed once per space object."""
        cached = self.__dict__.get("_allowed_edges_cache")
        if cached is None:
            cached = np.triu(np.asarray(self.adjacency_mask(), dtype=bool), 1)
            self.__dict__["_allowed_edges_cache"] = cached
        return cached

    def _arch2vec_arrays(self, adjacency: Any, ops: Any) -> tuple[np.ndarray, np.ndarray]:
        """Shape and label-id checks shared by the spaces' ``arch2vec_valid``; raises ``ValueError``."""
        adjacency, ops = np.asarray(adjacency), np.asarray(ops)
        n = self.num_nodes
        if adjacency.shape != (n, n) or ops.shape != (n,):
            raise ValueError(
                f"expected adjacency ({n}, {n}) and ops ({n},), got {adjacency.shape} and {ops.shape}"
            )
        if not np.isin(ops, np.arange(self.num_ops)).all():
            raise ValueError(f"op ids must be in [0, {self.num_ops}), got {ops.tolist()}")
        return adjacency, ops

    def _check_graph_arrays(self, adjacency: np.ndarray, ops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Shape/dtype/range checks shared by every ``from_graph``; returns int arrays."""
        n = self.num_nodes
        adjacency = np.asarray(adjacency)
        ops = np.asarray(ops)
        if adjacency.shape != (n, n):
            raise InvalidCellError(f"adjacency must have shape ({n}, {n}), got {adjacency.shape}")
        if ops.shape != (n,):
            raise InvalidCellError(f"ops must have shape ({n},), got {ops.shape}")
        for name, arr in (("adjacency", adjacency), ("ops", ops)):
            if not (np.issubdtype(arr.dtype, np.integer) or arr.dtype == np.bool_):
                raise InvalidCellError(f"{name} must hold integers, got dtype {arr.dtype}")
        if ((adjacency != 0) & (adjacency != 1)).any():
            raise InvalidCellError("adjacency entries must be 0 or 1")
        allowed = self._allowed_edges()
        if (adjacency.astype(bool) & ~allowed).any():
            if np.tril(adjacency).any():
                raise InvalidCellError("adjacency must be strictly upper triangular")
            raise InvalidCellError("adjacency has an edge the space does not allow")
        if ops.min() < 0 or ops.max() >= self.num_ops:
            raise InvalidCellError(f"op ids must be in [0, {self.num_ops}), got {ops.tolist()}")
        return adjacency.astype(np.int64), ops.astype(np.int64)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def as_int_matrix(matrix: Sequence[Sequence[int]] | np.ndarray, what: str = "matrix") -> np.ndarray:
    """Square 0/1 integer matrix from nested sequences or an array, or :class:`InvalidCellError`."""
    try:
        arr = np.asarray(matrix)
    except ValueError as err:  # ragged nested lists
        raise InvalidCellError(f"{what} is not a rectangular array: {err}") from None
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1]:
        raise InvalidCellError(f"{what} must be square, got shape {arr.shape}")
    if arr.dtype == np.bool_:
        arr = arr.astype(np.int64)
    if not np.issubdtype(arr.dtype, np.integer):
        raise InvalidCellError(f"{what} must hold integers 0/1, got dtype {arr.dtype}")
    if not np.isin(arr, (0, 1)).all():
        raise InvalidCellError(f"{what} entries must be 0 or 1")
    return arr.astype(np.int64)


__all__ = [
    "PAD",
    "CellT",
    "DecodedCell",
    "GraphEncoding",
    "SearchSpace",
    "VALID",
    "Validity",
    "as_int_matrix",
]
