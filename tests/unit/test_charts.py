"""Server-made SVG charts: well-formed, accessible, values written as text, input escaped."""
from datetime import date, timedelta
from xml.etree import ElementTree

from portal.services import charts

SVG = "{http://www.w3.org/2000/svg}"


def _parse(markup) -> ElementTree.Element:
    root = ElementTree.fromstring(str(markup))
    assert root.tag == SVG + "svg"
    assert root.get("role") == "img"
    title_id, desc_id = root.get("aria-labelledby").split()
    assert root.find(f"{SVG}title").get("id") == title_id
    assert root.find(f"{SVG}desc").get("id") == desc_id
    assert "style" not in str(markup)  # strict CSP: classes only
    return root


def _texts(root) -> list[str]:
    return [t.text for t in root.iter(SVG + "text")]


def test_bars_write_every_value_and_describe_them():
    root = _parse(charts.bars("c1", "各项得分", [("领导班子好", 84.4), ("党员队伍好", None)],
                              compare=[90, 50], value_label="得分", compare_label="区平均"))
    texts = _texts(root)
    assert "领导班子好" in texts and "84" in texts and "—" in texts and "90" in texts
    desc = root.find(f"{SVG}desc").text
    assert "领导班子好 84" in desc and "区平均 90" in desc
    widths = [float(r.get("width")) for r in root.iter(SVG + "rect") if r.get("class") == "chart__bar"]
    assert max(widths) <= 640


def test_bars_clamp_out_of_range_values():
    root = _parse(charts.bars("c2", "t", [("a", 150.0), ("b", -5.0)]))
    widths = [float(r.get("width")) for r in root.iter(SVG + "rect")]
    assert min(widths) == 0 and max(widths) <= 640


def test_histogram_counts_branches_per_band():
    root = _parse(charts.histogram("h", "分布", [0, 10, 45, 100, 100, 99.9]))
    desc = root.find(f"{SVG}desc").text
    assert "0–20%: 2" in desc and "40–60%: 1" in desc and "80–100%: 3" in desc
    assert "3" in _texts(root)


def test_line_with_points_and_without():
    today = date(2012, 10, 1)
    points = [(today - timedelta(days=2), 10.0, 70.0), (today - timedelta(days=1), 20.0, None), (today, 35.0, 80.0)]
    root = _parse(charts.line("l", "趋势", points, progress_label="进度", score_label="得分", empty_text="无"))
    assert len(list(root.iter(SVG + "polyline"))) == 2
    assert "35" in _texts(root) and "2012-10-01" in _texts(root)
    assert "进度: 10 → 35" in root.find(f"{SVG}desc").text
    empty = _parse(charts.line("l2", "趋势", [], progress_label="进度", score_label="得分", empty_text="暂无快照"))
    assert "暂无快照" in _texts(empty)
    single = _parse(charts.line("l3", "趋势", points[:1], progress_label="进度", score_label="得分", empty_text="无"))
    assert len(list(single.iter(SVG + "circle"))) == 2


def test_labels_are_escaped():
    markup = str(charts.bars("x", "<script>", [("<b>&", 50.0)]))
    assert "<script>" not in markup and "&lt;b&gt;&amp;" in markup
    _parse(markup)


def test_line_spaces_points_by_date():
    start = date(2012, 10, 1)
    points = [(start, 10.0, None), (start + timedelta(days=1), 20.0, None), (start + timedelta(days=10), 30.0, None)]
    root = _parse(charts.line("l4", "t", points, progress_label="p", score_label="s", empty_text="-"))
    xs = [float(c.get("cx")) for c in root.iter(SVG + "circle")]
    assert abs((xs[1] - xs[0]) * 9 - (xs[2] - xs[1])) < 0.5
