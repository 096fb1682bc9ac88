"""What every SUSY figure shares: the feature labels, the signal and background colours, the
data source named in the title (the UCI file or the stand-in), and the ROC curve in the review's
convention. Used by the data-set figures and by the logistic-regression, ensemble and
deep-network sections."""

from __future__ import annotations


SIGNAL_COLOR = "tab:blue"
BACKGROUND_COLOR = "tab:red"

#: Axis labels of the features (momentum-like columns are scaled to a mean of one).
LABELS = {
    "lepton1_pt": r"lepton 1 $p_T$ (scaled)",
    "lepton1_eta": r"lepton 1 $\eta$",
    "lepton1_phi": r"lepton 1 $\phi$ (rad)",
    "lepton2_pt": r"lepton 2 $p_T$ (scaled)",
    "lepton2_eta": r"lepton 2 $\eta$",
    "lepton2_phi": r"lepton 2 $\phi$ (rad)",
    "met": r"$E_T^{miss}$ (scaled)",
    "met_phi": r"$E_T^{miss}$ $\phi$ (rad)",
    "met_rel": r"$E_T^{miss,rel}$ (scaled)",
    "axial_met": r"axial $E_T^{miss}$ (scaled)",
    "m_r": r"$M_R$ (scaled)",
    "m_tr_2": r"$M_T^R$ (scaled)",
    "r": r"$R = M_T^R/M_R$",
    "mt2": r"$M_{T2}$ (scaled)",
    "s_r": r"$\sqrt{\hat s}_R$ (scaled)",
    "m_delta_r": r"$M_\Delta^R$ (scaled)",
    "dphi_r_b": r"$\Delta\phi_R^\beta$ (rad)",
    "cos_theta_r1": r"$|\cos\theta_{R+1}|$",
}

SOURCE_TITLES = {
    "toy": "toy stand-in (mlreview.data.susy_toy)",
    "uci": "UCI SUSY data set (Baldi et al. 2014)",
}


def source_title(source) -> str:
    """The data source named in every SUSY figure (the stand-in is always said)."""
    source = str(source) if source is not None else ""
    return SOURCE_TITLES.get(source, source or "unknown source")


def draw_roc(ax, efficiency, rejection, **kw) -> None:
    """One ROC curve in the review's convention: signal efficiency (x) against background
    rejection (y), both from 0 to 1."""
    ax.plot(efficiency, rejection, **kw)
    ax.set_xlim(0.0, 1.0)
    ax.set_ylim(0.0, 1.02)
    ax.set_xlabel("signal efficiency")
    ax.set_ylabel("background rejection")
