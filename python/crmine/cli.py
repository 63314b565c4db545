# SPDX-License-Identifier: Apache-2.0
"""The ``crmine`` command: ``crmine report`` turns a transaction file into one HTML report."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

from . import classify, cluster, datasets, deviation, plot, profile, rules, satisfaction, uplift, value
from .report import Progress, Report
from .transactions import TransactionLog

__all__ = ["main", "build_report", "SECTIONS"]


def _money(x: float) -> str:
    return f"{x:,.0f}"


def _overview(report: Report, ctx: dict) -> None:
    log: TransactionLog = ctx["log"]
    summary: pd.DataFrame = ctx["summary"]
    first, last = summary["first_purchase"].min(), summary["last_purchase"].max()
    sec = report.section("Overview", "What the log holds and the period it covers.")
    figures = {
        "Rows": f"{len(log):,}",
        "Customers": f"{len(summary):,}",
        "Period": f"{first:%Y-%m-%d} to {last:%Y-%m-%d}",
        "Net revenue": _money(summary["revenue"].sum()),
        "Returned": _money(summary["returned"].sum()),
        "Purchase occasions": f"{int(summary['occasions'].sum()):,}",
    }
    if "profit" in summary.columns:
        figures["Profit"] = _money(summary["profit"].sum())
    sec.metrics(figures)
    if log.rows_missing_customer:
        sec.note(f"{log.rows_missing_customer:,} rows without a customer id were left out.", kind="warning")
    only_returns = int((summary["occasions"] == 0).sum())
    if only_returns:
        sec.note(f"{only_returns:,} customers have returns but no purchase in the period; "
                 "they are counted in value but not scored by RFM.")


def _rfm(report: Report, ctx: dict) -> None:
    table = value.rfm(ctx["log"], as_of=ctx["as_of"])
    ctx["rfm"] = table
    segments = value.rfm_segments(table)
    sec = report.section("RFM segments", (
        "Customers scored 1-5 on recency (days since the last purchase), frequency (purchase occasions) "
        f"and monetary value (net revenue per occasion) as of {table.attrs['as_of']:%Y-%m-%d}, "
        "and named by the usual R-by-F segment map."))
    grid = table.groupby(["r_score", "f_score"], observed=True).agg(
        segment=("segment", "first"), count=("segment", "size")).reset_index()
    full = pd.MultiIndex.from_product([range(1, 6), range(1, 6)], names=["r_score", "f_score"])
    grid = grid.set_index(["r_score", "f_score"]).reindex(full).reset_index()
    names = {rule: name for name, rules in value.default_segment_map().items()
             for rule in [(r, f) for r in range(rules["r"][0], rules["r"][1] + 1)
                          for f in range(rules["f"][0], rules["f"][1] + 1)]}
    grid["segment"] = [names[(r, f)] for r, f in zip(grid["r_score"], grid["f_score"])]
    grid["count"] = grid["count"].fillna(0).astype(int)
    sec.figure(plot.segment_map(grid, title="RFM segment map", value="count"),
               caption="Customers per recency x frequency cell, coloured by segment.")
    sec.table(segments, caption="Segments", percent_columns=("customer_share", "revenue_share"))
    sec.figure(plot.bar_chart(segments.index.astype(str), segments["revenue_share"], horizontal=True,
                              title="Share of revenue by segment", x_label="Share of net revenue",
                              value_format="{:.1%}"))


def _contribution(report: Report, ctx: dict) -> None:
    c = value.contribution(ctx["summary"][ctx["value_column"]].rename(ctx["value_column"]))
    ctx["contribution"] = c
    sec = report.section("Customer value and contribution", (
        f"How {c.value_name} concentrates across customers: the Pareto curve, the share of the top customers, "
        "the Gini coefficient and ABC classes (A: the customers making up 80% of value, B: the next 15%)."))
    sec.metrics({
        "Top 20% of customers": f"{c.share_of_top(0.2):.1%} of {c.value_name}",
        "Top 1%": f"{c.share_of_top(0.01):.1%}",
        "Gini coefficient": f"{c.gini:.3f}",
        "Class A customers": f"{int(c.classes.loc['A', 'customers']):,}",
        "Unprofitable customers" if c.value_name == "profit" else "Customers with negative value":
            f"{len(c.unprofitable):,}",
    })
    sec.figure(plot.line_chart(c.curve["customer_share"], {f"Share of {c.value_name}": c.curve["value_share"]},
                               title="Pareto curve", x_label="Share of customers, most valuable first",
                               y_label=f"Cumulative share of {c.value_name}", x_percent=True, y_percent=True,
                               diagonal=True))
    sec.table(c.classes, caption="ABC classes", percent_columns=("customer_share", "value_share"))
    top = c.table.sort_values("rank").head(20)
    sec.table(top, caption=f"The 20 most valuable customers by {c.value_name}", percent_columns=("cumulative_share",))
    if len(c.unprofitable):
        sec.table(c.unprofitable, caption="Unprofitable customers (cost above revenue), worst first", max_rows=20)


def _cohorts(report: Report, ctx: dict) -> None:
    span_days = (ctx["summary"]["last_purchase"].max() - ctx["summary"]["first_purchase"].min()).days
    period = ctx["period"] or ("W" if span_days < 120 else "M" if span_days < 365 * 4 else "Q")
    t = value.cohort_retention(ctx["log"], period=period)
    sec = report.section("Cohort retention", (
        "Customers grouped by the period of their first purchase (rows) and the share of each cohort buying "
        "again k periods later (columns)."))
    sec.figure(plot.heatmap(t.retention, title="Retention by acquisition cohort",
                            x_label="Periods since first purchase", y_label="Cohort"))
    revenue_per_customer = t.revenue.div(t.sizes, axis=0)
    sec.figure(plot.heatmap(revenue_per_customer, title="Net revenue per acquired customer",
                            x_label="Periods since first purchase", y_label="Cohort", value_format="{:,.0f}",
                            cmap="greens"))
    sizes = t.sizes.to_frame("customers acquired")
    sec.table(sizes, caption="Cohort sizes", max_rows=60)


def _lifetime_value(report: Report, ctx: dict) -> None:
    import warnings

    from . import clv

    data = clv.summary(ctx["log"], freq="W", returns="drop")
    data = data[data["T"] > 0]
    sec = report.section("Customer lifetime value", (
        "BG/NBD (Fader, Hardie & Lee 2005) for how many more purchases each customer will make and whether they "
        "are still active, Gamma-Gamma for what they will spend; lifetime value over the next 12 months with a "
        "1% monthly discount rate."))
    repeat = data[(data["frequency"] > 0) & (data["monetary_value"] > 0)]
    if len(repeat) < 20:
        sec.note("Fewer than 20 repeat customers: too few to fit the lifetime-value models.", kind="warning")
        return
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        bgf = clv.BetaGeo().fit(data["frequency"], data["recency"], data["T"])
        ggf = clv.GammaGamma().fit(repeat["frequency"], repeat["monetary_value"])
    for w in caught:
        sec.note(f"{w.category.__name__}: {w.message}", kind="warning")
    ctx["clv_model"], ctx["spend_model"] = bgf, ggf  # for the 7P profile
    summary = ctx["summary"]
    margin = 1.0
    if "cost" in summary.columns and summary["revenue"].sum() > 0:
        margin = float(max(0.0, 1.0 - summary["cost"].sum() / summary["revenue"].sum()))
    p_alive = bgf.conditional_probability_alive(data["frequency"], data["recency"], data["T"])
    next_26 = bgf.conditional_expected_number_of_purchases_up_to_time(26, data["frequency"], data["recency"], data["T"])
    value = ggf.customer_lifetime_value(bgf, data["frequency"], data["recency"], data["T"], data["monetary_value"],
                                        time=12, discount_rate=0.01, freq="W", margin=margin)
    table = pd.DataFrame({"frequency": data["frequency"], "recency_weeks": data["recency"], "T_weeks": data["T"],
                          "p_alive": p_alive, "purchases_next_26w": next_26, "clv_12m": value}, index=data.index)
    p = bgf.params_
    sec.metrics({
        "BG/NBD (r, alpha, a, b)": ", ".join(f"{p[k]:.3g}" for k in ("r", "alpha", "a", "b")),
        "Likely active (P(alive) > 0.5)": f"{(table['p_alive'] > 0.5).mean():.0%}",
        "Expected purchases, next 26 weeks": f"{table['purchases_next_26w'].sum():,.0f}",
        "12-month CLV" + (f" at {margin:.0%} margin" if margin < 1 else " (revenue)"): _money(table["clv_12m"].sum()),
    })
    bins = np.linspace(0, 1, 11)
    counts, _ = np.histogram(table["p_alive"], bins=bins)
    sec.figure(plot.bar_chart([f"{lo:.1f}-{hi:.1f}" for lo, hi in zip(bins[:-1], bins[1:])], counts,
                              title="Customers by probability of being active", x_label="P(alive)",
                              y_label="Customers"))
    sec.table(table.sort_values("clv_12m", ascending=False).head(20), caption="The 20 customers worth the most "
              "over the next 12 months", percent_columns=("p_alive",))
    at_risk = table[(table["frequency"] >= 2) & (table["p_alive"] < 0.3)].sort_values("frequency", ascending=False)
    if len(at_risk):
        sec.table(at_risk.head(20), caption=f"Repeat buyers who have probably lapsed (P(alive) < 30%): "
                  f"{len(at_risk):,} customers", percent_columns=("p_alive",))


#: The report's sections, in order: (title for progress, function(report, context)). Later
#: areas append theirs; a section that does not apply to the columns present returns early.
SECTIONS: list[tuple[str, Callable[[Report, dict], None]]] = [
    ("Overview", _overview),
    ("RFM segments", _rfm),
    ("Customer value", _contribution),
    ("Cohort retention", _cohorts),
    ("Lifetime value", _lifetime_value),
    ("Segmentation", cluster.segmentation_section),
    ("Cross-sell", rules.cross_sell_section),
    ("Response model", classify.response_model_section),
    ("Campaign uplift", uplift.campaign_section),
    ("Deviations", deviation.deviations_section),
    ("Satisfaction", satisfaction.satisfaction_section),
    ("7P profile", profile.profile_section),
]


def build_report(log: TransactionLog, *, title: str, as_of: Any = None, period: str | None = None,
                 progress: Progress | None = None, extra: dict | None = None) -> Report:
    """Runs every applicable analysis on ``log`` and returns the report (not yet written)."""
    report = Report(title, subtitle=f"Generated by crmine on {pd.Timestamp.now():%Y-%m-%d %H:%M}")
    ctx: dict[str, Any] = {"log": log, "as_of": as_of, "period": period, **(extra or {})}
    progress = progress or Progress(len(SECTIONS) + 1, enabled=False)
    with progress.stage("Summarising customers"):
        ctx["summary"] = value.summarize(log)
        ctx["value_column"] = "profit" if "profit" in ctx["summary"].columns else "revenue"
    for name, build in SECTIONS:
        with progress.stage(name):
            build(report, ctx)
    return report


def _read_table(path: Path, columns: list[str], sep: str | None) -> pd.DataFrame:
    if not path.exists():
        raise SystemExit(f"crmine report: input file {path} does not exist")
    suffix = "".join(path.suffixes[-2:]).lower()
    if suffix.endswith(".parquet") or suffix.endswith(".pq"):
        try:
            return pd.read_parquet(path)
        except ImportError as exc:
            raise SystemExit("crmine report: reading Parquet needs pyarrow (pip install 'crmine[parquet]')") from exc
    return pd.read_csv(path, sep=sep or ",", low_memory=False)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="crmine", description="Data mining for customer relationship management.")
    sub = parser.add_subparsers(dest="command", required=True)
    rep = sub.add_parser("report", help="write an HTML report on a transaction log",
                         description="Reads a transaction CSV or Parquet file (or the bundled sample) and writes "
                                     "one self-contained HTML report: RFM segments, customer value, cohorts.")
    rep.add_argument("input", nargs="?", type=Path, help="CSV or Parquet file with one row per transaction")
    rep.add_argument("--sample", action="store_true", help="use the bundled seeded sample instead of a file")
    rep.add_argument("--sample-customers", type=int, default=5000, help="customers in the sample (default 5000)")
    rep.add_argument("--seed", type=int, default=0, help="seed of the sample (default 0)")
    rep.add_argument("-o", "--output", type=Path, default=Path("crmine-report.html"),
                     help="where to write the report (default crmine-report.html)")
    rep.add_argument("--customer", default="customer_id", help="customer id column (default customer_id)")
    rep.add_argument("--time", default="date", help="date/time column (default date)")
    rep.add_argument("--amount", default="amount", help="amount column (default amount)")
    rep.add_argument("--quantity", help="quantity column, with --price, when there is no amount column")
    rep.add_argument("--price", help="unit price column")
    rep.add_argument("--order", help="order/invoice id column: purchase occasions are orders")
    rep.add_argument("--item", help="product id column")
    rep.add_argument("--cost", help="cost column: value becomes profit")
    rep.add_argument("--sep", help="CSV field separator (default ',')")
    rep.add_argument("--as-of", help="reference date of recency (default: the day after the last row)")
    rep.add_argument("--period", choices=["W", "M", "Q", "Y"], help="cohort period (default: from the span)")
    rep.add_argument("--label", help="0/1 or two-valued column (response, churn): adds a response-model section")
    rep.add_argument("--campaign", type=Path, help="CSV or Parquet file of a randomised campaign, one row per customer "
                     "(customer id column as --customer): adds a campaign-uplift section")
    rep.add_argument("--treatment", default="treatment", help="0/1 treated flag column of --campaign (default treatment)")
    rep.add_argument("--response", default="response", help="0/1 response column of --campaign (default response)")
    rep.add_argument("--response-value", type=float, help="value of one incremental response (default: average order "
                     "value)")
    rep.add_argument("--contact-cost", type=float, default=1.0, help="cost of treating one customer (default 1)")
    rep.add_argument("--survey", type=Path, help="CSV or Parquet file of survey responses, one row per response: adds a "
                     "satisfaction section (NPS, CSAT, key drivers)")
    rep.add_argument("--nps-column", default="recommend", help="0-10 likelihood-to-recommend column of --survey "
                     "(default recommend)")
    rep.add_argument("--rating-column", default="overall", help="overall satisfaction rating column of --survey "
                     "(default overall)")
    rep.add_argument("--rating-scale", default="1,5", help="min,max of --rating-column (default 1,5)")
    rep.add_argument("--drivers", help="comma-separated attribute rating columns of --survey for key-driver analysis")
    rep.add_argument("--survey-time", help="response date column of --survey (satisfaction by month)")
    rep.add_argument("--survey-segment", help="segment column of --survey (satisfaction by segment)")
    rep.add_argument("--title", default=None, help="report title")
    rep.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    started = time.perf_counter()
    progress = Progress(len(SECTIONS) + 3, enabled=not args.quiet)
    try:
        with progress.stage("Reading data"):
            if args.sample:
                if args.input is not None:
                    raise SystemExit("crmine report: give an input file or --sample, not both")
                if args.campaign is not None:
                    raise SystemExit("crmine report: --sample plants its own campaign; --campaign needs an input file")
                sample = datasets.make_transactions(args.sample_customers, seed=args.seed)
                frame = sample.transactions
                names = dict(customer="customer_id", time="date", amount="amount", order="order_id", item="item",
                             cost="cost")
                title = args.title or f"crmine sample report ({args.sample_customers:,} customers, seed {args.seed})"
                planted = datasets.make_campaign(sample, seed=args.seed)
                campaign_extra = {"campaign": planted[["treatment", "response"]], "campaign_truth": planted["true_uplift"]}
                # A survey of the sample's customers from its own seeded stream: the sample's draws are unchanged.
                survey = datasets.make_survey(min(2000, 2 * args.sample_customers), n_customers=args.sample_customers,
                                              seed=args.seed)
                drivers = list(survey.attrs["driver_weights"])
                campaign_extra.update(survey=survey, survey_columns={
                    "score": "recommend", "rating": "overall", "scale": (1, 10), "attributes": drivers,
                    "time": "date", "by": "channel"})
            else:
                if args.input is None:
                    raise SystemExit("crmine report: give an input file, or --sample for the bundled sample")
                frame = _read_table(args.input, [], args.sep)
                names = dict(customer=args.customer, time=args.time, order=args.order, item=args.item,
                             cost=args.cost)
                if args.quantity or args.price:
                    names.update(quantity=args.quantity, price=args.price, amount=None)
                else:
                    names.update(amount=args.amount)
                title = args.title or f"crmine report: {args.input.name}"
                campaign_extra = {}
                if args.campaign is not None:
                    table = _read_table(args.campaign, [], args.sep)
                    if args.customer not in table.columns:
                        raise ValueError(f"--campaign: {args.campaign} has no customer id column {args.customer!r} "
                                         "(--customer)")
                    campaign_extra = {"campaign": table.set_index(args.customer),
                                      "campaign_columns": {"treatment": args.treatment, "response": args.response}}
                if args.survey is not None:
                    responses = _read_table(args.survey, [], args.sep)
                    try:
                        scale = tuple(float(v) for v in args.rating_scale.split(","))
                    except ValueError:
                        scale = ()
                    if len(scale) != 2:
                        raise ValueError(f"--rating-scale: expected min,max such as 1,5, got {args.rating_scale!r}")
                    campaign_extra.update(survey=responses, survey_columns={
                        "score": args.nps_column if args.nps_column in responses.columns else None,
                        "rating": args.rating_column if args.rating_column in responses.columns else None,
                        "scale": scale, "time": args.survey_time, "by": args.survey_segment,
                        "attributes": [c.strip() for c in args.drivers.split(",")] if args.drivers else []})
            log = TransactionLog.from_frame(frame, **{k: v for k, v in names.items() if v is not None})
        report = build_report(log, title=title, as_of=args.as_of, period=args.period, progress=progress,
                              extra={"frame": frame, "columns": {**names, "label": args.label}, **campaign_extra,
                                     "response_value": args.response_value, "contact_cost": args.contact_cost})
        with progress.stage("Writing report"):
            path = report.write(args.output)
    except (ValueError, TypeError) as exc:
        print(f"crmine report: {exc}", file=sys.stderr)
        return 2
    if not args.quiet:
        print(f"Report written to {path.resolve()} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
