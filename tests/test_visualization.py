"""Cell drawings: what the SVG shows equals the cell, the layouts are readable (checked on the geometry), bad input is
refused, and the CLI flags and the pipeline option produce the drawings."""

from __future__ import annotations

import io
import json
import re
import xml.etree.ElementTree as ET

import pytest
from fixtures import tiny_run

from archllm_hf.cli import main as cli_main
from archllm_hf.errors import InvalidCellError
from archllm_hf.networks.darts import DARTS_V2
from archllm_hf.spaces import DARTSCell, NB101Cell, get_space
from archllm_hf.spaces.nb201 import EDGES
from archllm_hf.visualization import (
    cell_layout,
    cell_to_image,
    cell_to_png,
    cell_to_svg,
    contact_sheet,
    draw_cell,
    layout_problems,
    save_cell_drawing,
)

NB201, NB101, DARTS = get_space("nb201"), get_space("nb101"), get_space("darts")

NB201_CELLS = {
    "all ops": "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_1x1~1|nor_conv_3x3~2|",
    # node 2 gets only none edges: it is dead, and so is its edge 2->3
    "dead node": "|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|avg_pool_3x3~1|nor_conv_3x3~2|",
    # node 1 feeds nothing: dead although the input reaches it
    "dead end": "|nor_conv_1x1~0|+|avg_pool_3x3~0|none~1|+|none~0|none~1|skip_connect~2|",
    # nothing reaches the output: every node is dead
    "disconnected": "|none~0|+|none~0|nor_conv_3x3~1|+|none~0|none~1|avg_pool_3x3~2|",
}
NB201_DEAD = {"all ops": (), "dead node": (2,), "dead end": (1,), "disconnected": (0, 1, 2, 3)}

CONV3, CONV1, POOL = "conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3"
NB101_CELLS = {
    "seven vertices": NB101Cell(
        [
            [0, 1, 1, 1, 0, 1, 0],
            [0, 0, 0, 0, 0, 0, 1],
            [0, 0, 0, 0, 0, 0, 1],
            [0, 0, 0, 0, 1, 0, 0],
            [0, 0, 0, 0, 0, 0, 1],
            [0, 0, 0, 0, 0, 0, 1],
            [0, 0, 0, 0, 0, 0, 0],
        ],
        ["input", CONV3, CONV3, CONV3, CONV3, POOL, "output"],
    ),
    # vertex 2 reaches nothing and vertex 3 is reached by nothing: pruning drops both
    "pruned": NB101Cell(
        [
            [0, 1, 1, 0, 0, 1],
            [0, 0, 0, 0, 1, 0],
            [0, 0, 0, 0, 0, 0],
            [0, 0, 0, 0, 1, 0],
            [0, 0, 0, 0, 0, 1],
            [0, 0, 0, 0, 0, 0],
        ],
        ["input", CONV1, POOL, CONV3, CONV3, "output"],
    ),
    # a chain with skips around it: the skips must bend around the vertices they pass
    "chain": NB101Cell(
        [
            [0, 1, 0, 0, 0, 1],
            [0, 0, 1, 0, 0, 0],
            [0, 0, 0, 1, 0, 1],
            [0, 0, 0, 0, 1, 0],
            [0, 0, 0, 0, 0, 1],
            [0, 0, 0, 0, 0, 0],
        ],
        ["input", CONV1, POOL, CONV3, CONV3, "output"],
    ),
}

# the first-order DARTS genotype of the paper (DARTS_V1), the other reference cell
DARTS_V1 = DARTSCell(
    normal=[
        ("sep_conv_3x3", 1),
        ("sep_conv_3x3", 0),
        ("skip_connect", 0),
        ("sep_conv_3x3", 1),
        ("skip_connect", 0),
        ("sep_conv_3x3", 1),
        ("sep_conv_3x3", 0),
        ("skip_connect", 2),
    ],
    reduce=[
        ("max_pool_3x3", 0),
        ("max_pool_3x3", 1),
        ("skip_connect", 2),
        ("max_pool_3x3", 0),
        ("max_pool_3x3", 0),
        ("skip_connect", 2),
        ("skip_connect", 2),
        ("avg_pool_3x3", 0),
    ],
)

_ID = re.compile(r"(?:(normal|reduce)\.)?(node|shape|edge|label)-(\d+)(?:-(\d+))?(-dead)?")


def read_svg(svg: str) -> dict[str | None, dict[str, dict]]:
    """Per panel (None, or normal/reduce): ``nodes`` {number: label text}, ``edges`` {(s, t): label text or
    None}, ``dead_nodes`` and ``dead_edges`` (sets), read back from the ids and text elements of the SVG."""
    panels: dict[str | None, dict[str, dict]] = {}
    for element in ET.fromstring(svg).iter():
        match = _ID.fullmatch(element.get("id", ""))
        if not match:
            continue
        panel, kind, first, second, dead = match.groups()
        found = panels.setdefault(panel, {"nodes": {}, "edges": {}, "dead_nodes": set(), "dead_edges": set()})
        text = "".join(t.text or "" for t in element.iter("{http://www.w3.org/2000/svg}text"))
        if kind == "node":
            found["nodes"][int(first)] = text
        elif kind == "shape" and dead:
            found["dead_nodes"].add(int(first))
        elif kind == "edge":
            found["edges"].setdefault((int(first), int(second)), None)
            if dead:
                found["dead_edges"].add((int(first), int(second)))
        elif kind == "label":
            found["edges"][(int(first), int(second))] = text
    return panels


@pytest.mark.parametrize("name", NB201_CELLS)
def test_nb201_drawing_shows_the_cell(name):
    cell = NB201.parse(NB201_CELLS[name])
    [drawn] = read_svg(cell_to_svg(NB201, cell)).values()
    assert drawn["nodes"] == {0: "0", 1: "1", 2: "2", 3: "3"}
    assert drawn["edges"] == {edge: op for edge, op in zip(EDGES, cell.ops) if op != "none"}
    assert drawn["dead_nodes"] == set(NB201_DEAD[name]) == set(NB201.dead_nodes(cell))
    assert drawn["dead_edges"] == {(s, t) for s, t in drawn["edges"] if {s, t} & set(NB201_DEAD[name])}


def test_nb201_dead_nodes_agree_with_connectivity():
    for cell in NB201.enumerate():
        dead = NB201.dead_nodes(cell)
        assert (3 in dead) == (not NB201.is_connected(cell))
        if 3 in dead:
            assert dead == (0, 1, 2, 3)


@pytest.mark.parametrize("name", NB101_CELLS)
def test_nb101_drawing_shows_the_pruned_cell(name):
    cell = NB101_CELLS[name]
    pruned = NB101.prune(cell)
    [drawn] = read_svg(cell_to_svg(NB101, cell)).values()
    assert drawn["nodes"] == dict(enumerate(pruned.ops))
    n = pruned.num_vertices
    assert drawn["edges"] == {(i, j): None for i in range(n) for j in range(n) if pruned.matrix[i][j]}
    assert not drawn["dead_nodes"] and not drawn["dead_edges"]
    if name == "pruned":
        assert n == 4 and pruned.ops == ("input", CONV1, CONV3, "output")


@pytest.mark.parametrize(
    "cell", [DARTS_V2, DARTS_V1, *DARTS.sample(2, seed=5)], ids=["v2", "v1", "rand0", "rand1"]
)
def test_darts_drawing_shows_normal_and_reduce_cells(cell):
    drawn = read_svg(cell_to_svg(DARTS, cell))
    assert set(drawn) == {"normal", "reduce"}
    for kind, pairs in zip(("normal", "reduce"), cell.cells()):
        assert drawn[kind]["nodes"] == {
            0: "c_{k-2}",
            1: "c_{k-1}",
            2: "0",
            3: "1",
            4: "2",
            5: "3",
            6: "c_{k}",
        }
        expected = {(node, i // 2 + 2): op for i, (op, node) in enumerate(pairs)}
        expected |= {(k, 6): None for k in (2, 3, 4, 5)}  # the concatenation, unlabelled
        assert drawn[kind]["edges"] == expected


def test_darts_arch2vec_variant_draws_none_edges():
    space = get_space("darts", ops="arch2vec")
    cell = DARTSCell(normal=[("none", 0), *DARTS_V2.normal[1:]], reduce=DARTS_V2.reduce)
    assert read_svg(cell_to_svg(space, cell))["normal"]["edges"][(0, 2)] == "none"


def test_every_nb201_layout_is_readable():
    """No two edge labels overlap, no label covers a node, no edge crosses another, runs through a node or a label:
    for all 15,625 cells, on the layout geometry (nothing is rendered)."""
    bad = {}
    for cell in NB201.enumerate():
        problems = layout_problems(cell_layout(NB201, cell))
        if problems:
            bad[NB201.format(cell)] = problems
    assert bad == {}


@pytest.mark.parametrize("cell", [DARTS_V2, DARTS_V1], ids=["v2", "v1"])
def test_reference_darts_layouts_are_readable(cell):
    layout = cell_layout(DARTS, cell)
    # edges may cross (DARTS_V2's normal cell holds K3,3: c_{k-2}, c_{k-1}, c_{k} each joined to nodes 0, 1, 2, so
    # no drawing of it is free of crossings), but nothing else may collide
    assert layout_problems(layout, crossings=False) == []
    for panel in layout.panels:
        labels = [edge.label_box for edge in panel.edges if edge.label is not None]
        assert len(labels) == 8
        assert all(0 <= box.x - box.width / 2 and box.x + box.width / 2 <= panel.width for box in labels)
        assert all(0 <= box.y - box.height / 2 and box.y + box.height / 2 <= panel.height for box in labels)


@pytest.mark.parametrize("name", NB101_CELLS)
def test_nb101_layouts_are_readable(name):
    assert layout_problems(cell_layout(NB101, NB101_CELLS[name])) == []


def test_layout_problems_finds_collisions():
    """The checker itself: a label put on another and an edge laid straight through two nodes are reported."""
    from dataclasses import replace

    layout = cell_layout(NB201, NB201.parse(NB201_CELLS["all ops"]))
    [panel] = layout.panels
    first, second, *rest = panel.edges
    piled = (first, replace(second, label_box=first.label_box), *rest)
    problems = layout_problems(replace(layout, panels=(replace(panel, edges=piled),)))
    assert (
        f"labels of edge {first.source}->{first.target} and edge {second.source}->{second.target} overlap"
        in problems
    )
    straight = tuple(replace(e, rad=0.0) if (e.source, e.target) == (0, 3) else e for e in panel.edges)
    problems = layout_problems(replace(layout, panels=(replace(panel, edges=straight),)))
    assert "edge 0->3 passes through node 1" in problems and "edge 0->3 passes through node 2" in problems


@pytest.mark.parametrize(
    ("space", "cell", "message"),
    [
        (
            NB101,
            NB101Cell([[0, 0], [0, 0]], ["input", "output"]),
            "invalid nb101 cell: the input cannot reach",
        ),
        (
            NB101,
            NB101Cell([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", "output", "output"]),
            "interior vertex 1",
        ),
        (
            DARTS,
            DARTSCell(normal=[("sep_conv_3x3", 2), *DARTS_V2.normal[1:]], reduce=DARTS_V2.reduce),
            "node 2",
        ),
        (
            DARTS,
            DARTSCell(normal=[("none", 0), *DARTS_V2.normal[1:]], reduce=DARTS_V2.reduce),
            "unknown op 'none'",
        ),
        (NB201, "|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|", "not an NB201Cell: str"),
    ],
)
def test_invalid_cells_are_refused(space, cell, message):
    for draw in (draw_cell, cell_to_svg, cell_to_png, cell_layout):
        with pytest.raises(InvalidCellError, match=re.escape(message)) as info:
            draw(space, cell)
        assert str(info.value).startswith(f"cannot draw an invalid {space.name} cell")
    with pytest.raises(InvalidCellError, match="cell 1 of the contact sheet"):
        contact_sheet(space, [space.sample(1)[0], cell])


def test_figures_stay_out_of_pyplot_and_png_and_images_come_out():
    import matplotlib.pyplot as plt
    from PIL import Image

    before = plt.get_fignums()
    cell = NB201.parse(NB201_CELLS["dead node"])
    figure, titled = draw_cell("nb201", cell), draw_cell(NB201, cell, title="a cell")
    assert plt.get_fignums() == before
    assert titled.get_size_inches()[1] > figure.get_size_inches()[1] and "a cell" in {
        t.get_text() for t in titled.texts
    }
    png = cell_to_png(NB201, cell, dpi=50)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    image = cell_to_image(NB201, cell, dpi=50)
    assert isinstance(image, Image.Image) and image.size == Image.open(io.BytesIO(png)).size
    width, height = figure.get_size_inches()
    assert image.size[0] == pytest.approx(width * 50, abs=1) and image.size[1] == pytest.approx(
        height * 50, abs=1
    )
    sheet = contact_sheet(NB201, [cell, NB201.parse(NB201_CELLS["all ops"])], columns=2)
    assert plt.get_fignums() == before
    assert len(sheet.axes) == 2 and "#1" in {t.get_text() for t in sheet.texts}


def test_png_bytes_are_repeatable_and_carry_the_given_text(tmp_path):
    from PIL import Image

    from archllm_hf.visualization import figure_png, save_figure

    cell = NB201.parse(NB201_CELLS["all ops"])
    first, second = (figure_png(draw_cell(NB201, cell), dpi=50, metadata={"Description": "x"}) for _ in "ab")
    assert first == second and b"Software" not in first and b"matplotlib" not in first
    with Image.open(io.BytesIO(first)) as image:
        assert image.text == {"Description": "x"}
    with pytest.raises(ValueError, match="PNG drawings only"):
        save_figure(draw_cell(NB201, cell), tmp_path / "cell.svg", metadata={"Description": "x"})
    assert not list(tmp_path.iterdir())


def test_save_cell_drawing_picks_the_format_by_suffix(tmp_path):
    cell = NB201.parse(NB201_CELLS["all ops"])
    svg = save_cell_drawing(NB201, cell, tmp_path / "a" / "cell.svg")
    assert read_svg(svg.read_text())[None]["edges"][(0, 1)] == "nor_conv_3x3"
    assert save_cell_drawing(NB201, cell, tmp_path / "cell.PNG").read_bytes().startswith(b"\x89PNG")
    with pytest.raises(ValueError, match=r"name it \*\.svg or \*\.png"):
        save_cell_drawing(NB201, cell, tmp_path / "cell.pdf")
    assert sorted(p.name for p in tmp_path.rglob("*")) == [
        "a",
        "cell.PNG",
        "cell.svg",
    ]  # no temporary files left


def test_cli_build_net_draws_the_cell(tmp_path, capsys):
    arch = NB201_CELLS["dead node"]
    out = tmp_path / "cell.svg"
    assert cli_main(["build-net", "--space", "nb201", "--cell", arch, "--draw", str(out)]) == 0
    assert f"drew the cell to {out}" in capsys.readouterr().out
    drawn = read_svg(out.read_text())[None]
    assert drawn["edges"] == {edge: op for edge, op in zip(EDGES, NB201.parse(arch).ops) if op != "none"}
    assert cli_main(["build-net", "--space", "nb201", "--cell", arch, "--draw", str(tmp_path / "x.jpg")]) == 2
    assert "name it *.svg or *.png" in capsys.readouterr().err


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    return tiny_run(tmp_path_factory.mktemp("run"), "nb201", 256)


def _known_samples(generator, num_samples, **kwargs):
    """Sample records of three known valid cells and one invalid result, as ``generate`` returns them (the tiny
    untrained VQ-VAE of the fixture decodes no valid NB201 cell)."""
    space = generator.space
    cells = [NB201.parse(NB201_CELLS[name]) for name in ("all ops", "dead node", "disconnected")]
    records = [space.sample_record(space.validate(cell), "1 2 3") for cell in cells]
    return records + [space.sample_record(space.invalid("bad codes"), "4 5 6")]


def test_cli_generate_draws_every_valid_sample_and_a_contact_sheet(run_dir, tmp_path, monkeypatch, capsys):
    from archllm_hf.generation import ArchitectureGenerator

    monkeypatch.setattr(  # the command streams its records through iter_generate
        ArchitectureGenerator, "iter_generate", lambda self, num, **kwargs: iter(_known_samples(self, num))
    )
    out, draw = tmp_path / "samples.jsonl", tmp_path / "drawings"
    argv = [
        "generate",
        "--prior",
        str(run_dir / "prior"),
        "--num",
        "4",
        "--out",
        str(out),
        "--draw",
        str(draw),
    ]
    assert cli_main([*argv, "-q"]) == 0
    assert "drew 3 valid samples" in capsys.readouterr().out
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(p.name for p in draw.iterdir()) == [
        "contact_sheet.png",
        "sample_0.svg",
        "sample_1.svg",
        "sample_2.svg",
    ]
    for i, row in enumerate(rows[:3]):
        edges = read_svg((draw / f"sample_{i}.svg").read_text())[None]["edges"]
        cell = NB201.parse(row["cell"])
        assert edges == {edge: op for edge, op in zip(EDGES, cell.ops) if op != "none"}
    assert (draw / "contact_sheet.png").read_bytes().startswith(b"\x89PNG")


def test_pipeline_returns_images(run_dir, monkeypatch):
    from PIL import Image
    from transformers import pipeline

    generate = pipeline("architecture-generation", model=str(run_dir / "prior"))
    real = generate(num_samples=4, seed=0, return_images=True)
    assert all("image" in sample for sample in real)
    assert all(isinstance(s["image"], Image.Image) if s["valid"] else s["image"] is None for s in real)
    assert "image" not in generate(num_samples=2, seed=0)[0]
    monkeypatch.setattr(type(generate.generator), "generate", _known_samples)
    known = generate(num_samples=4, return_images=True)
    assert [sample["image"] is None for sample in known] == [False, False, False, True]
    assert all(isinstance(sample["image"], Image.Image) for sample in known[:3])
    expected = cell_to_image(NB201, NB201.parse(NB201_CELLS["dead node"]))
    assert known[1]["image"].tobytes() == expected.tobytes()
