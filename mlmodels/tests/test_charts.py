"""The SVG chart functions on hand-made metrics: well-formed XML, one cell per label pair, points where the data
says, escaped labels, and no division by zero on empty data."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from mlmodels import charts

SVG = "{http://www.w3.org/2000/svg}"


def parse(markup: str) -> ET.Element:
    root = ET.fromstring(markup)  # raises on anything that is not well-formed (e.g. an unescaped "<")
    assert root.tag == f"{SVG}svg"
    return root


def find(root: ET.Element, tag: str, css: str) -> list[ET.Element]:
    return [element for element in root.iter(f"{SVG}{tag}") if css in (element.get("class") or "").split()]


def texts(root: ET.Element) -> list[str]:
    return [element.text or "" for element in root.iter(f"{SVG}text")]


CONFUSION = {"labels": ["5000", "6100", "8000"], "matrix": [[8, 2, 0], [1, 3, 0], [0, 0, 0]]}


def test_the_heatmap_has_one_cell_per_pair_of_labels_shaded_by_row_share():
    root = parse(charts.confusion_heatmap(CONFUSION, names={"5000": "Cost of Goods Sold"}))

    cells = find(root, "rect", "cell")
    assert len(cells) == 3 ** 2
    assert [cell.get("data-count") for cell in cells] == ["8", "2", "0", "1", "3", "0", "0", "0", "0"]
    assert cells[0].get("fill") == charts.shade(0.8, correct=True)  # 8 of the row's 10
    assert cells[1].get("fill") == charts.shade(0.2, correct=False)
    assert cells[8].get("fill") == charts.EMPTY_CELL  # a row with no rows: share 0, no division by zero
    assert "True 5000 Cost of Goods Sold → predicted 6100: 2 of 10 rows (20%)" in cells[1].find(f"{SVG}title").text
    assert len(find(root, "rect", "diagonal")) == 3


def test_the_heatmap_labels_both_axes_with_the_account_codes_and_says_how_to_read_it():
    root = parse(charts.confusion_heatmap(CONFUSION))

    assert [label.text for label in find(root, "text", "row-label")] == CONFUSION["labels"]
    assert [label.text for label in find(root, "text", "column-label")] == CONFUSION["labels"]
    words = texts(root)
    assert {"True account", "Predicted account", "Confusion matrix"} <= set(words)
    assert "Rows: true (confirmed) account." in words
    assert root.find(f"{SVG}title").text == "Confusion matrix"


def test_the_heatmap_prints_counts_only_when_the_cells_can_hold_them():
    small = parse(charts.confusion_heatmap(CONFUSION))
    assert [text.text for text in find(small, "text", "cell-count")] == ["8", "2", "1", "3"]  # zero cells stay blank

    labels = [f"{code:04d}" for code in range(60)]
    crowded = {"labels": labels, "matrix": [[5 if i == j else 0 for j in range(60)] for i in range(60)]}
    root = parse(charts.confusion_heatmap(crowded))
    assert len(find(root, "rect", "cell")) == 60 ** 2
    assert find(root, "text", "cell-count") == []


def test_the_heatmap_escapes_codes_and_names():
    confusion = {"labels": ["<b>1</b>", "6100"], "matrix": [[1, 0], [0, 1]]}
    markup = charts.confusion_heatmap(confusion, names={"6100": 'Supplies <script>alert("x")</script>'})

    assert "<script>" not in markup and "<b>" not in markup
    root = parse(markup)
    assert find(root, "text", "row-label")[0].text == "<b>1</b>"  # shown as text, not as markup
    assert 'Supplies <script>alert("x")</script>' in find(root, "rect", "cell")[3].find(f"{SVG}title").text


@pytest.mark.parametrize("confusion", [None, {}, {"labels": [], "matrix": []}])
def test_the_heatmap_of_zero_held_out_rows_says_so(confusion):
    root = parse(charts.confusion_heatmap(confusion))

    assert find(root, "rect", "cell") == []
    assert "No held-out rows: nothing to show." in texts(root)


def test_a_heatmap_with_a_short_matrix_row_pads_it_with_zeros():
    root = parse(charts.confusion_heatmap({"labels": ["1", "2"], "matrix": [[3]]}))

    assert [cell.get("data-count") for cell in find(root, "rect", "cell")] == ["3", "0", "0", "0"]


RELIABILITY = [
    {"bin": "0.0-0.5", "count": 0, "mean_confidence": None, "accuracy": None},
    {"bin": "0.5-1.0", "count": 30, "mean_confidence": 0.8, "accuracy": 0.6},
]


def test_reliability_points_sit_at_mean_confidence_and_accuracy():
    bins = [
        {"bin": "0.0-0.5", "count": 10, "mean_confidence": 0.25, "accuracy": 0.5},
        {"bin": "0.5-1.0", "count": 40, "mean_confidence": 0.75, "accuracy": 1.0},
    ]
    root = parse(charts.reliability_chart(bins, calibration_error=0.15))
    frame = charts.reliability_frame()  # 300 x 300 units from (64, 56)

    points = find(root, "circle", "bin-point")
    assert [(float(p.get("cx")), float(p.get("cy"))) for p in points] == [
        (64 + 0.25 * 300, 56 + (1 - 0.5) * 300), (64 + 0.75 * 300, 56 + 0),
    ]
    assert (frame.x(0.25), frame.y(0.5)) == (139.0, 206.0)
    assert float(points[1].get("r")) > float(points[0].get("r"))  # 40 rows draw a bigger point than 10
    assert [text.text for text in find(root, "text", "bin-count")] == ["10", "40"]
    diagonal = find(root, "line", "diagonal")[0]
    assert (diagonal.get("x1"), diagonal.get("y1"), diagonal.get("x2"), diagonal.get("y2")) == ("64", "356", "364", "56")
    assert any("Calibration error (ECE): 0.150" in text for text in texts(root))


def test_empty_reliability_bins_draw_no_point_but_a_zero_count():
    root = parse(charts.reliability_chart(RELIABILITY, calibration_error=0.2))

    points = find(root, "circle", "bin-point")
    assert [(p.get("cx"), p.get("cy"), p.get("data-count")) for p in points] == [("304", "176", "30")]
    assert [text.text for text in find(root, "text", "bin-count")] == ["0", "30"]
    assert len(find(root, "rect", "bin-bar")) == 1
    assert find(root, "polyline", "curve") == []  # one point: no line to draw


@pytest.mark.parametrize("bins", [None, [], [{"bin": "0.0-0.1", "count": 0, "mean_confidence": None,
                                                "accuracy": None}]])
def test_reliability_without_rows_says_so(bins):
    root = parse(charts.reliability_chart(bins, calibration_error=None))

    assert find(root, "circle", "bin-point") == []
    assert "No held-out rows: calibration cannot be measured." in texts(root)


CURVE = [
    {"threshold": 0.5, "coverage": 0.8, "precision": 0.9},
    {"threshold": 0.7, "coverage": 0.5, "precision": 0.96},
    {"threshold": 0.85, "coverage": 0.2, "precision": 0.995},
    {"threshold": 0.95, "coverage": 0.0, "precision": None},
]


def test_the_coverage_chart_marks_the_threshold_and_the_99_percent_line():
    root = parse(charts.coverage_chart(CURVE, threshold=0.85))
    precision, coverage = charts.coverage_frames(CURVE, threshold=0.85)

    assert (precision.y_min, precision.x_min, coverage.y_min) == (0.85, 0.5, 0.0)  # zoomed to the data
    target = find(root, "line", "target-line")[0]
    assert float(target.get("y1")) == precision.y(0.99)
    marker = find(root, "line", "threshold-line")[0]
    assert float(marker.get("x1")) == precision.x(0.85)
    assert [text.text for text in find(root, "text", "threshold-label")] == ["current threshold 0.85"]
    assert any("At the current threshold 0.85: 20% auto-approved, 99.5% of them right" in text
               for text in texts(root))
    dots = find(root, "circle", "precision-point")
    assert len(dots) == 3  # no precision where nothing is covered
    assert (float(dots[1].get("cx")), float(dots[1].get("cy"))) == (precision.x(0.7), precision.y(0.96))
    assert len(find(root, "circle", "coverage-point")) == 4
    assert {"Precision", "Coverage", "Confidence threshold (auto-approve at or above)"} <= set(texts(root))


def test_the_coverage_chart_breaks_the_line_where_precision_is_undefined():
    curve = [{"threshold": 0.5, "coverage": 0.5, "precision": 0.9}, {"threshold": 0.6, "coverage": 0.4, "precision": 0.92},
             {"threshold": 0.7, "coverage": 0.0, "precision": None}, {"threshold": 0.8, "coverage": 0.1, "precision": 1.0},
             {"threshold": 0.9, "coverage": 0.05, "precision": 1.0}]
    root = parse(charts.coverage_chart(curve, threshold=0.42))

    assert len(find(root, "polyline", "precision-line")) == 2
    precision, _ = charts.coverage_frames(curve, threshold=0.42)
    assert precision.x_min == 0.4  # the axis reaches a threshold below the measured ones
    assert any("not one of the measured thresholds" in text for text in texts(root))


@pytest.mark.parametrize("curve", [None, [], [{"coverage": 0.5}]])
def test_the_coverage_chart_without_a_curve_says_so(curve):
    root = parse(charts.coverage_chart(curve, threshold=0.9))

    assert "No coverage curve was recorded." in texts(root)


def test_a_curve_with_nothing_ever_covered_draws_without_dividing_by_zero():
    curve = [{"threshold": cut, "coverage": 0.0, "precision": None} for cut in (0.5, 0.9, 0.99)]
    root = parse(charts.coverage_chart(curve, threshold=None))

    assert find(root, "circle", "precision-point") == []
    assert find(root, "line", "threshold-line") == []
    assert len(find(root, "circle", "coverage-point")) == 3
