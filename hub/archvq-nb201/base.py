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

Results that may be invalid (:meth:`SearchSpace.validate`, ``decode_graph(s)``, ``decode_text``) are
:class:`DecodedCell` values: the cell (if any), whether it is valid, why not, and its canonical id.
"""

from __future__ import annotations

import json
import operator
import random
from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

import numpy as np

from .errors import InvalidCellError

NETWORK_BUILDERS: dict[str, Callable[..., Any]] = {}
"""``space name → builder(cell, num_classes=..., **config)`` of :meth:`SearchSpace.to_module`, filled by
``archllm_hf.networks`` (spaces know cells, not networks)."""

PAD = "<pad>"

SPACE_CLASSES: dict[str, type[SearchSpace]] = {}
"""``space name → SearchSpace subclass``: every concrete space registers itself here when its module is imported
(the first class of a name wins), so :func:`get_space` knows exactly the spaces that were imported; a released
repo's remote code imports only its own."""

CellT = TypeVar("CellT", bound=Hashable)


@dataclass(frozen=True, eq=False)
class GraphEncoding:
    """Fixed-size graph form of a cell (see the module docstring for the conventions)."""

    adjacency: np.ndarray
    ops: np.ndarray
    mask: np.ndarray


@dataclass(frozen=True)
class DecodedCell(Generic[CellT]):
    """A cell, or a failed attempt at one, with its validity; true iff ``valid``. Never raised.

    Returned by :meth:`SearchSpace.validate`, ``decode_graph``, ``decode_graphs`` and ``decode_text``, and by
    :meth:`SearchSpace.invalid`. ``cell`` is None when no cell could be built at all (malformed text or
    graph); ``reason`` says why an invalid result is invalid; ``id`` is the canonical id of a valid cell.
    """

    cell: CellT | None
    valid: bool
    reason: str | None = None
    id: str | None = None

    def __bool__(self) -> bool:
        return self.valid


DECODE_CHUNK = 4096
"""Rows :meth:`SearchSpace.decode_graphs` handles at once (bounds the memory of its numpy intermediates)."""
_CACHE_PREFIX = "_cache_"


class SearchSpace(ABC, Generic[CellT]):
    """A NAS search space: its cells, their text form, validity, canonical ids and graph encoding.

    A subclass implements the text form, :meth:`_problem` and :meth:`_valid_id` (validity and canonical id),
    :meth:`_cells_from_graphs` (decoding of graphs that passed the shared array checks), the graph encoding
    and sampling. It may override :meth:`_validate_all` to share work between cells (e.g. hash a batch).
    """

    name: ClassVar[str]
    """Short name used on the command line and as the dataset config name (``nb101``, ``nb201``, ``darts``)."""
    text_column: ClassVar[str | None] = None
    """Dataset column holding :meth:`format` output (``arch_str``, ``genotype``), or None."""
    has_isomorphism_classes: ClassVar[bool] = False
    """Whether :meth:`isomorphism_id` is coarser than :meth:`canonical_id` (NB201); when False the two are equal."""
    isomorphism_column: ClassVar[str | None] = None
    """Dataset column holding :meth:`isomorphism_id` where the space has coarser classes (NB201's ``unique_str``)."""
    num_nodes: int
    """Number of node slots in the graph encoding."""
    node_vocab: tuple[str, ...]
    """Node labels of the graph encoding; ``node_vocab[0] == "<pad>"``."""
    zero_ops: ClassVar[tuple[str, ...]] = ()
    """Node labels whose op outputs zeros whatever its input (NB201's ``none``): no signal passes such a node."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "name" in cls.__dict__:
            SPACE_CLASSES.setdefault(cls.name, cls)

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
    def _problem(self, cell: CellT) -> str | None:
        """Why a well-formed ``cell`` is not a valid architecture of the space, or None when it is one."""

    @abstractmethod
    def _valid_id(self, cell: CellT) -> str:
        """Canonical id of a cell :meth:`_problem` accepts (not checked again)."""

    def validate(self, cell: CellT) -> DecodedCell[CellT]:
        """``DecodedCell(cell, True, None, canonical_id)`` if ``cell`` is valid, else
        ``DecodedCell(cell, False, reason)``."""
        return self._validate_all([cell])[0]

    def invalid(self, reason: str, cell: CellT | None = None) -> DecodedCell[CellT]:
        """An invalid result saying ``reason`` (e.g. for malformed input that never became a cell)."""
        return DecodedCell(cell, False, reason)

    def canonical_id(self, cell: CellT) -> str:
        """Id equal for exactly the cells the space treats as the same architecture.

        Raises :class:`InvalidCellError` for an invalid cell.
        """
        return self._valid_id(self.check(cell))

    def check(self, cell: CellT) -> CellT:
        """Return ``cell`` if valid, else raise :class:`InvalidCellError` with the reason."""
        reason = self._problem(cell)
        if reason is not None:
            raise InvalidCellError(f"invalid {self.name} cell: {reason}")
        return cell

    def isomorphism_id(self, cell: CellT) -> str:
        """Id of the cell's isomorphism class where the space has a coarser one (NB201's unique string);
        else the canonical id."""
        return self.canonical_id(cell)

    def _validate_all(self, cells: Sequence[CellT]) -> list[DecodedCell[CellT]]:
        """:meth:`validate` of each cell. Spaces override it to share work between the cells of a batch."""
        results = []
        for cell in cells:
            reason = self._problem(cell)
            valid = reason is None
            results.append(DecodedCell(cell, valid, reason, self._valid_id(cell) if valid else None))
        return results

    # --- graph encoding --------------------------------------------------------------------------
    @abstractmethod
    def adjacency_mask(self) -> np.ndarray:
        """``bool [num_nodes, num_nodes]``: the adjacency entries that may be non-zero."""

    @abstractmethod
    def to_graph(self, cell: CellT) -> GraphEncoding:
        """Fixed-size graph encoding of ``cell``."""

    @abstractmethod
    def _cells_from_graphs(self, adjacency: np.ndarray, ops: np.ndarray) -> list[CellT | DecodedCell[CellT]]:
        """The cell of each graph of a batch that passed the shared checks, or an invalid result naming why
        the graph describes no cell. ``adjacency`` is ``int8 [B, N, N]`` with 0/1 on allowed entries only,
        ``ops`` is ``int64 [B, N]`` with ids into :attr:`node_vocab`."""

    def from_graph(self, adjacency: np.ndarray, ops: np.ndarray) -> CellT:
        """Cell from a graph encoding; inverse of :meth:`to_graph`.

        Raises :class:`InvalidCellError` when the graph describes no cell of the space (the result may
        still be invalid per :meth:`validate`).
        """
        decoded = self._decode_cells(np.asarray(adjacency)[None], np.asarray(ops)[None])[0]
        if isinstance(decoded, DecodedCell):
            raise InvalidCellError(decoded.reason)
        return decoded

    def decode_graph(self, adjacency: Any, ops: Any) -> DecodedCell[CellT]:
        """Like :meth:`from_graph` followed by :meth:`validate`, but never raises (one row of
        :meth:`decode_graphs`)."""
        try:
            adjacency, ops = np.asarray(adjacency), np.asarray(ops)
        except (ValueError, TypeError) as err:  # ragged or non-numeric nested input
            return self.invalid(f"graph is not an array: {err}")
        return self.decode_graphs(adjacency[None], ops[None])[0]

    def decode_graphs(self, adjacency: Any, ops: Any) -> list[DecodedCell[CellT]]:
        """:meth:`decode_graph` of every row of a batch ``adjacency [B, N, N]``, ``ops [B, N]``, only faster.

        The shape, dtype, range and allowed-entry checks run once on the whole batch; a row that fails gets
        the invalid result :meth:`decode_graph` would give it. Raises ``ValueError`` only when the arguments
        are not two arrays with the same number of rows.
        """
        adjacency, ops = np.asarray(adjacency), np.asarray(ops)
        if adjacency.ndim == 0 or ops.ndim == 0 or len(adjacency) != len(ops):
            raise ValueError(
                f"decode_graphs needs a batch of adjacency [B, {self.num_nodes}, {self.num_nodes}] and ops "
                f"[B, {self.num_nodes}] with the same B, got shapes {adjacency.shape} and {ops.shape}"
            )
        results: list[DecodedCell[CellT]] = []
        for start in range(0, len(adjacency), DECODE_CHUNK):
            rows = slice(start, start + DECODE_CHUNK)
            decoded = self._decode_cells(adjacency[rows], ops[rows])
            cells = [item for item in decoded if not isinstance(item, DecodedCell)]
            validated = iter(self._validate_all(cells))
            results += [item if isinstance(item, DecodedCell) else next(validated) for item in decoded]
        return results

    def decode_text(self, text: Any) -> DecodedCell[CellT]:
        """Like :meth:`parse` followed by :meth:`validate`, but never raises."""
        if not isinstance(text, str):
            return self.invalid(f"cell text must be a string, got {type(text).__name__}")
        try:
            cell = self.parse(text)
        except (InvalidCellError, RecursionError) as err:
            return self.invalid(str(err) or type(err).__name__)
        return self.validate(cell)

    # --- enumeration and sampling ----------------------------------------------------------------
    def decode_native(self, value: Any) -> DecodedCell[CellT]:
        """Like :meth:`decode_text` for a cell as a sample record holds it: its text, or its JSON-ready native form
        (:meth:`to_native`, e.g. NB101's ``{"matrix", "ops"}``), which is read as its JSON text. Never raises."""
        if value is None:
            return self.invalid("no cell")
        if not isinstance(value, str):
            try:
                value = json.dumps(value)
            except (TypeError, ValueError) as err:
                return self.invalid(f"cell is neither text nor a JSON value: {err}")
        return self.decode_text(value)

    def enumerate(self, progress: bool = False) -> Iterator[CellT]:
        """Every distinct cell of the space, one per canonical id (finite spaces only)."""
        raise NotImplementedError(f"{self.name} is too large to enumerate; use sample()")

    @abstractmethod
    def random_cell(self, rng: random.Random) -> CellT:
        """One cell drawn from the space's sampling distribution (valid by construction)."""

    # --- local search ----------------------------------------------------------------------------
    def neighbours(self, cell: CellT) -> list[CellT]:
        """Every valid cell one move (one op or one edge changed) away from ``cell``.

        Distinct by canonical id, never ``cell``'s own, in an order fixed by ``cell``. Raises
        :class:`InvalidCellError` for a non-cell or an invalid cell.
        """
        raise NotImplementedError(f"{self.name} defines no neighbours")

    def mutate(self, cell: CellT, rng: random.Random) -> CellT:
        """One neighbour of ``cell`` drawn uniformly with ``rng``: the one-edge/one-op mutation of regularized
        evolution (Real et al. 2019). Raises ``ValueError`` when ``cell`` has no neighbours."""
        options = self.neighbours(cell)
        if not options:
            raise ValueError(f"{self.name} cell {self.canonical_id(cell)} has no neighbours")
        return rng.choice(options)

    def _distinct_valid(self, cell: CellT, candidates: Sequence[CellT]) -> list[CellT]:
        """The valid ``candidates``, first of each canonical id, without ``cell``'s id (a valid cell)."""
        seen = {self._valid_id(cell)}
        out = []
        for decoded in self._validate_all(candidates):
            if decoded.valid and decoded.id not in seen:
                seen.add(decoded.id)
                out.append(decoded.cell)
        return out

    # --- shared behaviour ------------------------------------------------------------------------
    @property
    def num_cells(self) -> int | None:
        """How many distinct cells (canonical ids) the space has; None when that is too large to matter."""
        return None

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
            "num_vertices": len(keep),
            "num_edges": int(adjacency.sum()),
        }
        if self.text_column is not None:
            record[self.text_column] = self.format(cell)
        record.update(self.extra_record(cell))
        return record

    def to_graphs(
        self, cells: Sequence[CellT], live_only: bool = False
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Stacked graph encodings of ``cells``: ``adjacency [B, N, N]`` int8, ``ops [B, N]`` int64 and ``mask
        [B, N]`` bool. Raises :class:`InvalidCellError` for a cell the space cannot encode.

        ``live_only`` keeps only the edges a signal from the cell's inputs to its outputs runs along
        (:meth:`live_adjacency`); nodes, labels and mask are unchanged."""
        n = self.num_nodes
        adjacency = np.zeros((len(cells), n, n), dtype=np.int8)
        ops = np.zeros((len(cells), n), dtype=np.int64)
        mask = np.zeros((len(cells), n), dtype=bool)
        for row, cell in enumerate(cells):
            graph = self.to_graph(cell)
            adjacency[row], ops[row], mask[row] = graph.adjacency, graph.ops, graph.mask
        if live_only:
            adjacency = self.live_adjacency(adjacency, ops, mask)
        return adjacency, ops, mask

    def live_adjacency(self, adjacency: np.ndarray, ops: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """``adjacency [B, N, N]`` without the edges no signal runs along: those into or out of a node whose op is
        one of :attr:`zero_ops`, then those of every node no longer on a path from one of the graph's inputs
        (nodes without predecessors) to one of its outputs (nodes without successors). NB201's cell with ``none``
        on every edge into the output keeps no edge at all."""
        edges = adjacency.astype(bool) & mask[:, :, None] & mask[:, None, :]
        inputs = mask & ~edges.any(axis=1)
        outputs = mask & ~edges.any(axis=2)
        zero_ids = [self.node_vocab.index(op) for op in self.zero_ops]
        passing = mask & ~np.isin(ops, zero_ids)
        edges &= passing[:, :, None] & passing[:, None, :]
        reached, reaching = inputs.copy(), outputs.copy()
        for _ in range(self.num_nodes):
            reached = reached | np.einsum("bij,bi->bj", edges, reached)
            reaching = reaching | np.einsum("bij,bj->bi", edges, reaching)
        live = reached & reaching
        return (edges & live[:, :, None] & live[:, None, :]).astype(adjacency.dtype)

    def to_native(self, cell: CellT) -> Any:
        """JSON-ready native form of the cell (default: :meth:`format`)."""
        return self.format(cell)

    def from_native(self, native: Any) -> CellT:
        """Cell of a :meth:`to_native` value (e.g. a sample record's ``cell``); inverse of :meth:`to_native`
        (default: :meth:`parse`). Raises :class:`InvalidCellError` for a value that is no cell's native form."""
        if not isinstance(native, str):
            raise InvalidCellError(f"{self.name} native cell form is a string, got {type(native).__name__}")
        return self.parse(native)

    def to_module(self, cell: CellT, num_classes: int = 10, **config: Any) -> Any:
        """The network this space's benchmark trained, built for ``cell``: a ``torch.nn.Module`` mapping images
        ``[batch, 3, H, W]`` to logits ``[batch, num_classes]`` (``archllm_hf.networks``; ``config``: the builder's
        sizes). Raises :class:`InvalidCellError` for a cell the space rejects."""
        builder = NETWORK_BUILDERS.get(self.name)
        if builder is None:
            raise NotImplementedError(
                f"no network builder for {self.name!r}; import archllm_hf.networks first"
            )
        result = self.validate(cell)
        if not result.valid:
            raise InvalidCellError(
                f"cannot build the network of an invalid {self.name} cell: {result.reason}"
            )
        return builder(result.cell, num_classes=num_classes, **config)

    def sample_record(self, decoded: DecodedCell[CellT], text: str | None = None) -> dict[str, Any]:
        """One generated sample as a JSON-ready dict: ``cell`` (native form), ``id`` (canonical id),
        ``isomorphism_id``, ``valid``, ``reason`` (why not valid) and ``codes`` (the text the sampler wrote, or
        None)."""
        cell = decoded.cell
        isomorphism_id = None
        if decoded.valid:
            isomorphism_id = self.isomorphism_id(cell) if self.has_isomorphism_classes else decoded.id
        return {
            "cell": self.to_native(cell) if cell is not None else None,
            "id": decoded.id,
            "isomorphism_id": isomorphism_id,
            "valid": decoded.valid,
            "reason": decoded.reason,
            "codes": text,
        }

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
    def _cache(self, name: str) -> dict[Any, Any]:
        """A per-space-object memo (created on first use, left out when the space is pickled)."""
        return self.__dict__.setdefault(_CACHE_PREFIX + name, {})

    def __getstate__(self) -> dict[str, Any]:
        """Pickle without the memos, so a space pickles small and the same however much it has decoded."""
        return {key: value for key, value in self.__dict__.items() if not key.startswith(_CACHE_PREFIX)}

    def _allowed_edges(self) -> np.ndarray:
        """:meth:`adjacency_mask` restricted to the strict upper triangle, computed once per space object."""
        cached = self.__dict__.get(_CACHE_PREFIX + "allowed_edges")
        if cached is None:
            cached = np.triu(np.asarray(self.adjacency_mask(), dtype=bool), 1)
            self.__dict__[_CACHE_PREFIX + "allowed_edges"] = cached
        return cached

    def _decode_cells(self, adjacency: np.ndarray, ops: np.ndarray) -> list[CellT | DecodedCell[CellT]]:
        """Cells of the rows of a batch, or invalid results for the rows that are no cell."""
        problems = self._graph_problems(adjacency, ops)
        ok = [row for row, problem in enumerate(problems) if problem is None]
        cells = iter(
            self._cells_from_graphs(adjacency[ok].astype(np.int8), ops[ok].astype(np.int64)) if ok else ()
        )
        return [next(cells) if problem is None else self.invalid(problem) for problem in problems]

    def _graph_problems(self, adjacency: np.ndarray, ops: np.ndarray) -> list[str | None]:
        """Per row of a batch: what the shared shape/dtype/range/allowed-entry checks find wrong, or None."""
        rows = len(adjacency)
        shared = self._batch_shape_problem(adjacency, ops)
        if shared is not None:
            return [shared] * rows
        not_binary = ((adjacency != 0) & (adjacency != 1)).reshape(rows, -1).any(axis=1)
        outside = (adjacency.astype(bool) & ~self._allowed_edges()).reshape(rows, -1).any(axis=1)
        bad_ops = ((ops < 0) | (ops >= self.num_ops)).any(axis=1)
        problems: list[str | None] = [None] * rows
        for row in np.flatnonzero(not_binary | outside | bad_ops).tolist():
            if not_binary[row]:
                problems[row] = "adjacency entries must be 0 or 1"
            elif outside[row] and np.tril(adjacency[row]).any():
                problems[row] = "adjacency must be strictly upper triangular"
            elif outside[row]:
                problems[row] = "adjacency has an edge the space does not allow"
            else:
                problems[row] = f"op ids must be in [0, {self.num_ops}), got {ops[row].tolist()}"
        return problems

    def _batch_shape_problem(self, adjacency: np.ndarray, ops: np.ndarray) -> str | None:
        """What is wrong with every row of a batch alike (row shape or dtype), or None."""
        n = self.num_nodes
        if adjacency.shape[1:] != (n, n):
            return f"adjacency must have shape ({n}, {n}), got {adjacency.shape[1:]}"
        if ops.shape[1:] != (n,):
            return f"ops must have shape ({n},), got {ops.shape[1:]}"
        for name, arr in (("adjacency", adjacency), ("ops", ops)):
            if arr.dtype.kind not in "biu":  # bool, signed or unsigned integers
                return f"{name} must hold integers, got dtype {arr.dtype}"
        return None

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def _remember(cache: dict[Any, Any], key: Any, value: Any, limit: int) -> Any:
    """Store ``value`` under ``key`` in a memo holding at most ``limit`` entries (oldest dropped first)."""
    if len(cache) >= limit:
        del cache[next(iter(cache))]
    cache[key] = value
    return value


def as_index(value: Any) -> int | None:
    """``value`` as an int when it is an integer (numpy's included; a bool is not one here), else None."""
    if isinstance(value, bool):
        return None
    try:
        return operator.index(value)
    except TypeError:
        return None


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


def get_space(name: str, **kwargs: Any) -> SearchSpace:
    """The search space called ``name`` (``nb101``, ``nb201`` or ``darts``); kwargs go to its constructor."""
    try:
        cls = SPACE_CLASSES[name]
    except KeyError:
        raise ValueError(f"unknown search space {name!r}; choose one of {', '.join(SPACE_CLASSES)}") from None
    return cls(**kwargs)


def resolve_space(space: SearchSpace | str) -> SearchSpace:
    """``space`` itself, or the search space of that name (:func:`get_space`).

    Raises:
        TypeError: ``space`` is neither a :class:`SearchSpace` nor a name.
    """
    if isinstance(space, str):
        return get_space(space)
    if not isinstance(space, SearchSpace):
        raise TypeError(f"space must be a SearchSpace or a space name, got {type(space).__name__}")
    return space


def space_of(config: Any) -> SearchSpace:
    """The search space a model config (or a prior's description) names in its ``space`` and ``space_kwargs``."""
    return get_space(config.space, **dict(getattr(config, "space_kwargs", None) or {}))


__all__ = [
    "PAD",
    "SPACE_CLASSES",
    "CellT",
    "DecodedCell",
    "GraphEncoding",
    "SearchSpace",
    "as_index",
    "as_int_matrix",
    "get_space",
    "resolve_space",
    "space_of",
]
