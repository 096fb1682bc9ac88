"""The project's figure saving: one layout pass for both files, and the same page as matplotlib's own
``bbox_inches="tight"``."""

from __future__ import annotations

import matplotlib.image as mpimg
import pytest
import numpy as np

from mlreview.figures.style import PNG_DPI, figure, save_figure


def _draw():
    fig, axes = figure(1, 2, height=2.5)
    for ax in axes:
        ax.plot(np.arange(1, 11), np.arange(1, 11) ** 2, "o-", label="$x^2$")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("$\\alpha = P/N$")
        ax.legend()
    fig.suptitle("a title above the panels")
    fig.tight_layout()
    return fig


def test_save_figure_crops_like_matplotlib_tight_bbox(tmp_path):
    save_figure(_draw(), tmp_path / "ours.pdf", tmp_path / "ours.png")
    reference = _draw()
    reference.savefig(tmp_path / "reference.png", dpi=PNG_DPI, bbox_inches="tight")
    ours, theirs = mpimg.imread(tmp_path / "ours.png"), mpimg.imread(tmp_path / "reference.png")
    assert abs(ours.shape[0] - theirs.shape[0]) <= 3 and abs(ours.shape[1] - theirs.shape[1]) <= 3
    assert (tmp_path / "ours.pdf").read_bytes().startswith(b"%PDF")


def test_save_figure_lays_out_once_per_file(tmp_path, monkeypatch):
    fig = _draw()
    calls = []
    original = type(fig).draw

    def counting_draw(self, renderer):
        calls.append(type(renderer).__name__)
        return original(self, renderer)

    monkeypatch.setattr(type(fig), "draw", counting_draw)
    save_figure(fig, tmp_path / "f.pdf", tmp_path / "f.png")
    assert len(calls) == 3  # the tight-box pass, the PDF, the PNG (matplotlib alone: two per file)


def test_the_config_figure_style_sets_the_pdf_font_type(tmp_path, monkeypatch):
    from mlreview.figures import style

    monkeypatch.setattr(style, "RC", dict(style.RC))
    style.configure({"pdf_fonttype": 3})
    save_figure(_draw(), tmp_path / "type3.pdf", tmp_path / "type3.png")
    style.configure({"pdf_fonttype": 42})
    save_figure(_draw(), tmp_path / "type42.pdf", tmp_path / "type42.png")
    assert b"/Type3" in (tmp_path / "type3.pdf").read_bytes()
    assert b"/Type3" not in (tmp_path / "type42.pdf").read_bytes()
    assert b"/FontFile2" in (tmp_path / "type42.pdf").read_bytes()  # the embedded TrueType subset


@pytest.mark.parametrize("settings, message", [({"pdf_fonttype": 1}, "pdf_fonttype must be one of"),
                                               ({"dpi": 300}, "unknown key")])
def test_a_bad_figure_style_is_a_clear_error(settings, message, monkeypatch):
    from mlreview.errors import MlreviewError
    from mlreview.figures import style

    monkeypatch.setattr(style, "RC", dict(style.RC))
    with pytest.raises(MlreviewError, match=message):
        style.configure(settings)
