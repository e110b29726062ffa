"""The block language of family specs: expansion, expressions, and every error it can raise."""

from __future__ import annotations

import re

import pytest

import zoo
from zoo.specification import blocks, expressions

FAMILY = """\
family: tiny
description: a family of tiny residual models
model: functional
input: [16, 16, 3]
params: {depth: 2, width: 8, top: true}
variants:
  tiny_a: {depth: 1}
  tiny_b: {depth: 3, width: 4}
defaults:
  BatchNormalization: {epsilon: 1.0e-5}
blocks:
  unit:
    params: {filters: ~, project: false}
    layers:
      - Conv2D: {name: ._proj, filters: =filters, kernel_size: 1, when: =project}
      - Conv2D: {name: ._conv, filters: =filters, kernel_size: 3, padding: same, inputs: [input]}
      - BatchNormalization: {name: ._bn}
      - Add: {name: ._add, inputs: [._proj, ._bn]}
layers:
  - Conv2D: {name: stem, filters: =width, kernel_size: 3, padding: same}
  - {use: unit, as: "stage_{i}", repeat: =depth, filters: "=width * 2", project: "=i == 1"}
  - GlobalAveragePooling2D: {name: pool}
  - Dense: {name: head, units: 10, when: =top}
"""


def load(text=FAMILY, name=None, **overrides):
    return zoo.Spec.from_yaml(text, "specs/tiny.yaml", name=name, **overrides)


def test_variants_expand_to_plain_layers_with_names_and_inputs():
    spec = load(name="tiny_b")
    assert spec.name == "tiny_b" and spec.family == "tiny"
    names = [layer.name for layer in spec.layers]
    assert names == [
        "stem",
        "stage_1_proj",
        "stage_1_conv",
        "stage_1_bn",
        "stage_1_add",
        "stage_2_conv",
        "stage_2_bn",
        "stage_2_add",
        "stage_3_conv",
        "stage_3_bn",
        "stage_3_add",
        "pool",
        "head",
    ]
    by_name = {layer.name: layer for layer in spec.layers}
    assert by_name["stage_1_conv"].inputs == ("stem",)  # inputs: [input] is the block's input
    assert by_name["stage_1_add"].inputs == ("stage_1_proj", "stage_1_bn")
    # without the projection, ._proj resolves to the item before it: the block's input
    assert by_name["stage_2_add"].inputs == ("stage_1_add", "stage_2_bn")
    assert by_name["stage_2_conv"].args["filters"] == 8  # width * 2 with width: 4
    assert by_name["stage_1_bn"].args["epsilon"] == 1.0e-5  # per-class defaults
    assert by_name["head"].args["units"] == 10


def test_the_first_variant_is_the_default_and_overrides_apply():
    assert load().name == "tiny_a"
    spec = load(name="tiny_a", top=False, input_shape=(32, 32, 3))
    assert spec.layers[-1].name == "pool" and spec.input == (32, 32, 3)
    assert zoo.summary(spec, engine="formula").rows[0].output_shape == (None, 32, 32, 8)


def test_an_expanded_family_builds_and_both_engines_agree():
    spec = load(name="tiny_b")
    assert zoo.summary(spec, engine="formula") == zoo.summary(spec, engine="keras")


def test_an_unknown_override_is_refused_with_a_suggestion():
    with pytest.raises(
        zoo.SpecError,
        match=re.escape(
            "unknown override for 'tiny_a'; did you mean 'width'? "
            "Received: widht=3. Valid: input_shape, depth, width, top"
        ),
    ):
        load(name="tiny_a", widht=3)


def test_plain_specs_take_input_shape_only(spec_text):
    assert zoo.Spec.from_yaml(spec_text, input_shape=[32, 32, 3]).input == (32, 32, 3)
    with pytest.raises(zoo.SpecError, match="unknown override. Received: include_top=false"):
        zoo.Spec.from_yaml(spec_text, include_top=False)


def test_input_shape_is_rechecked_by_the_formula_engine(spec_text):
    with pytest.raises(zoo.SpecError, match=r"output size would be"):
        zoo.summary(zoo.Spec.from_yaml(spec_text, input_shape=[1, 1, 3]), engine="formula")


# ---------------------------------------------------------------- errors name the definition, then the uses


def test_an_error_inside_a_block_names_the_definition_line_then_each_use_then_the_variant():
    text = FAMILY.replace("{name: ._bn}", "{name: ._bn, epsilom: 0.1}")
    with pytest.raises(zoo.SpecError) as exc:
        load(text, name="tiny_b")
    lines = str(exc.value).splitlines()
    assert lines[0].startswith(
        "specs/tiny.yaml:17: blocks.unit.layers[2].BatchNormalization.epsilom: "
        "unknown argument; did you mean 'epsilon'?"
    )
    assert lines[1] == "  in stage_1 = unit(filters=8, project=true, i=1), used at specs/tiny.yaml:21"
    assert lines[2] == "  in variant tiny_b (depth=3, width=4), specs/tiny.yaml:8"


def test_geometry_errors_inside_blocks_point_into_the_block():
    text = FAMILY.replace("kernel_size: 3, padding: same, inputs", "kernel_size: 30, inputs")
    with pytest.raises(zoo.SpecError) as exc:
        zoo.summary(load(text, name="tiny_a"), engine="formula")
    assert str(exc.value).startswith(
        "specs/tiny.yaml:16: blocks.unit.layers[1].Conv2D: stage_1_conv "
        "(in spec 'tiny_a'): output size would be"
    )
    assert "  in stage_1 = unit(filters=16, project=true), used at specs/tiny.yaml:21" in str(exc.value)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "{use: unit,",
            "{use: unti,",
            "specs/tiny.yaml:21: layers[1].use: unknown block; did you mean 'unit'?",
        ),
        (
            'filters: "=width * 2"',
            "filtres: 3",
            "layers[1].filtres: unknown parameter of block 'unit'; did you mean 'filters'?",
        ),
        ('filters: "=width * 2", ', "", "layers[1]: block 'unit' needs filters"),
        (
            "repeat: =depth",
            "repeat: 0",
            "layers[1].repeat: repeat must be a positive integer. Received: repeat=0",
        ),
        ("repeat: =depth", "repeat: 2.5", "repeat must be a positive integer. Received: repeat=2.5"),
        (
            'filters: "=width * 2"',
            'filters: "=widht * 2"',
            "layers[1].filters: unknown name 'widht'; did you mean 'width'? in expression '=widht * 2'",
        ),
        ('filters: "=width * 2"', 'filters: "=width.real"', "Attribute is not allowed in an expression"),
        ('filters: "=width * 2"', 'filters: "=width.bit_length()"', "Received: width.bit_length(...)"),
        (
            'filters: "=width * 2"',
            "filters: \"=__import__('os')\"",
            "only these functions may be called, with positional arguments",
        ),
        ('filters: "=width * 2"', 'filters: "=10 ** 100"', "exponent larger than 64"),
        ('filters: "=width * 2"', 'filters: "=9 ** 60"', "the result is too large"),
        ('filters: "=width * 2"', "filters: \"='x' * 100000\"", "more than 1000 items or characters"),
        ('filters: "=width * 2"', 'filters: "=[1] * 2000"', "more than 1000 items or characters"),
        ('filters: "=width * 2"', 'filters: "={x for x in [1]}"', "SetComp is not allowed"),
        (
            "{name: ._bn}",
            "{name: stem}",
            "blocks.unit.layers[2].BatchNormalization.name: layer name 'stem' is "
            "already used (first defined at specs/tiny.yaml:20); names must be unique after expansion",
        ),
        (
            "inputs: [._proj, ._bn]",
            "inputs: [._proj, stem]",
            "unknown layer 'stem' (a block sees only its own layers and its inputs)",
        ),
        (
            "  - {use: unit,",
            "  - {use: unit, as: stage_1, filters: 2}\n  - {use: unit,",
            "layer name 'stage_1_conv' is already used (first defined at specs/tiny.yaml:16)",
        ),
    ],
)
def test_expansion_mistakes_are_spec_errors(old, new, message):
    assert old in FAMILY
    with pytest.raises(zoo.SpecError, match=re.escape(message)):
        zoo.summary(load(FAMILY.replace(old, new), name="tiny_b"), engine="formula")


def test_a_block_that_uses_itself_is_refused():
    text = FAMILY.replace(
        "      - Conv2D: {name: ._proj",
        "      - {use: unit, as: ._again, filters: 1}\n      - Conv2D: {name: ._proj",
    )
    with pytest.raises(
        zoo.SpecError,
        match=re.escape(
            "blocks.unit.layers[0].use: block 'unit' uses itself (unit -> unit); blocks may not recurse"
        ),
    ):
        load(text)


def test_a_cycle_through_two_blocks_is_refused():
    text = FAMILY.replace(
        "layers:\n  - Conv2D: {name: stem",
        "  other:\n    params: []\n    layers:\n"
        "      - {use: unit, filters: 1}\nlayers:\n  - Conv2D: {name: stem",
    )
    text = text.replace(
        "      - Conv2D: {name: ._proj", "      - {use: other}\n      - Conv2D: {name: ._proj"
    )
    with pytest.raises(
        zoo.SpecError, match=r"uses itself \((unit -> other -> unit|other -> unit -> other)\)"
    ):
        load(text)


def test_an_unused_block_is_refused():
    text = FAMILY.replace(
        "layers:\n  - Conv2D: {name: stem",
        "  spare:\n    params: []\n    layers:\n      - Dense: {units: 1}\nlayers:\n  - Conv2D: {name: stem",
    )
    with pytest.raises(zoo.SpecError, match=re.escape("blocks.spare: block 'spare' is never used")):
        load(text)


def test_an_expansion_beyond_the_layer_limit_is_refused(monkeypatch):
    monkeypatch.setattr(blocks, "MAX_LAYERS", 6)
    with pytest.raises(zoo.SpecError, match="the model expands to more than 6 layers"):
        load(name="tiny_b")
    monkeypatch.setattr(blocks, "MAX_LAYERS", 5000)
    with pytest.raises(zoo.SpecError, match="the model expands to more than 5,000 layers"):
        load(FAMILY.replace("repeat: =depth", "repeat: 2000"), name="tiny_b")


def test_a_flow_mapping_cut_at_a_comma_is_explained():
    text = FAMILY.replace('filters: "=width * 2"', "filters: =max(1, width)")
    with pytest.raises(
        zoo.SpecError,
        match=re.escape(
            "layers[1].filters: unbalanced brackets: in YAML's flow "
            "style ({...}) a value containing ',', '[', ']', '{' or "
            "'}' must be quoted"
        ),
    ):
        load(text)


def test_an_unquoted_template_in_flow_style_is_a_parse_error_with_the_fix():
    text = FAMILY.replace('as: "stage_{i}"', "as: stage_{i}")
    with pytest.raises(zoo.SpecError, match=r"specs/tiny.yaml:21: YAML syntax error.*must be quoted"):
        load(text)


def test_variants_must_name_declared_parameters():
    with pytest.raises(
        zoo.SpecError,
        match=re.escape("specs/tiny.yaml:7: variants.tiny_a.dept: unknown parameter; did you mean 'depth'?"),
    ):
        load(FAMILY.replace("tiny_a: {depth: 1}", "tiny_a: {dept: 1}"))


def test_requirements_word_their_message():
    text = FAMILY.replace(
        "defaults:",
        'require:\n  - {that: "=width >= 4", message: "width must be at least 4, got {width}"}\ndefaults:',
    )
    with pytest.raises(zoo.SpecError, match=re.escape("width must be at least 4, got 2")):
        load(text, name="tiny_a", width=2)


def test_the_expression_evaluator_computes_what_keras_applications_needs():
    env = {"alpha": 0.35, "r": 1.2, "d": 3}
    assert expressions.evaluate("make_divisible(32 * alpha, 8)", env) == 16
    assert expressions.evaluate("ceil(d * r)", env) == 4
    assert expressions.evaluate("correct_pad(224, 3)", env) == [[0, 1], [0, 1]]
    assert expressions.evaluate("correct_pad([113, 56], 3)", env) == [[1, 1], [0, 1]]
    assert expressions.evaluate("letter(2) if d > 2 and not alpha > 1 else 'z'", env) == "b"
    with pytest.raises(expressions.ExpressionError, match="longer than 500"):
        expressions.evaluate("1 + " * 200 + "1", env)


def test_expressions_say_keras_applications_loops():
    """Comprehensions, ranges, sums, products, running sums and slices, as Python computes them."""
    args = [{"repeats": 1}, {"repeats": 2}, {"repeats": 2}, {"repeats": 3}]
    env = {"blocks_args": args, "depth_coefficient": 1.4, "depths": [3, 3, 9, 3]}
    assert expressions.evaluate("[ceil(depth_coefficient * a['repeats']) for a in blocks_args]", env) == [
        2,
        3,
        3,
        5,
    ]
    assert expressions.evaluate("[x * x for x in range(1, 8, 2) if x != 5]", env) == [1, 9, 49]
    assert expressions.evaluate("sum(depths[:2]), prod([2, 2, 2, 1]), cumsum(depths)", env) == [
        6,
        8,
        [3, 6, 15, 18],
    ]
    assert expressions.evaluate("depths[1:3], depths[::-1], 'block'[:3], depths[5:]", env) == [
        [3, 9],
        [3, 9, 3, 3],
        "blo",
        [],
    ]
    # the loop's name is its own: it shadows a param inside, and is no dependency of the expression
    assert expressions.evaluate("[depths for depths in range(2)] + depths[:1]", env) == [0, 1, 3]
    assert expressions.names_in("[ceil(d * a) for a in blocks_args]") == {"d", "blocks_args"}


@pytest.mark.parametrize("rate", [0.0, 0.1, 0.5, 0.3, 0.999, 1e-310])
@pytest.mark.parametrize("num", [0, 1, 2, 18, 36])
def test_linspace_is_numpys_to_the_bit(rate, num):
    """ConvNeXt's rates are `[float(x) for x in np.linspace(0.0, drop_path_rate, sum(depths))]`."""
    import numpy as np

    got = expressions.evaluate("linspace(0.0, rate, num)", {"rate": rate, "num": num})
    assert [x.hex() for x in got] == [float(x).hex() for x in np.linspace(0.0, rate, num)]


@pytest.mark.parametrize(
    "text, error",
    [
        ("[x for x in range(3) for y in range(3)]", "one `for`"),
        ("[x for x in range(3) if x if x]", "at most one|`\\[x for NAME"),
        ("[x for (x, y) in [[1, 2]]]", "for NAME"),
        ("[x for x in 5]", "runs over a list"),
        ("[x for x in 'abc']", "runs over a list"),
        ("range(10**9)", "more than 1000 items"),
        ("range(2.5)", "integers"),
        ("linspace(0, 1, 10**6)", "more than 1000 items"),
        ("[0 for x in range(1000)] * 2", "more than 1000 items"),
        ("[[y for y in range(1000)] for x in range(1000)]", "units of work"),
        ("[1, 2][::0]", "step cannot be zero"),
        ("[1, 2][0.5:]", "sliced, by integers"),
        ("5[1:]", "sliced"),
        ("sum([[1], [2]])", "adds numbers only"),
        ("prod(['a', 'b'])", "multiplies numbers only"),
        ("cumsum([[1], [2]])", "adds numbers only"),
        ("{x: 1 for x in range(3)}", "DictComp is not allowed"),
        ("(x for x in range(3))", "GeneratorExp is not allowed"),
        ("{x for x in range(3)}", "SetComp is not allowed"),
    ],
)
def test_loops_stay_bounded_and_whitelisted(text, error):
    with pytest.raises(expressions.ExpressionError, match=error):
        expressions.evaluate(text, {})


def test_a_loop_is_charged_to_the_budget_per_step():
    small, large = expressions.Budget(), expressions.Budget()
    expressions.evaluate("[x for x in range(10)]", {}, small)
    expressions.evaluate("[x for x in range(1000)]", {}, large)
    assert large.used > 50 * small.used
    with pytest.raises(expressions.ExpressionError, match="units of work"):
        expressions.evaluate("[x for x in range(1000)]", {}, expressions.Budget(1500))


def test_zoo_show_expanded_says_where_each_layer_came_from(capsys):
    from zoo import cli

    assert cli.main(["show", "resnet50", "--expanded"]) == 0
    out = capsys.readouterr().out
    # keras.applications.ResNet50().layers holds 177: these and its InputLayer
    assert "# resnet50: 176 layers, input [224, 224, 3]" in out
    assert re.search(
        r"conv2_block1_0_conv: Conv2D \{filters: 256, kernel_size: \[1, 1\], strides: \[1, 1\]\}\n"
        r"    # line \d+: blocks.bottleneck.layers\[0\].Conv2D, in conv2_block1 \(bottleneck\) "
        r"in conv2 \(stack\)",
        out,
    )
    assert (
        "conv2_block1_1_conv: Conv2D {filters: 64, kernel_size: [1, 1], strides: [1, 1]}  <- pool1_pool"
        in out
    )


def test_a_plain_spec_may_leave_spatial_sizes_open():
    text = """\
name: open
description: a fully convolutional model takes any size
input: [null, null, 3]
model: functional
layers:
  - Conv2D: {filters: 4, kernel_size: 3, strides: 2}
  - MaxPooling2D: {}
  - GlobalAveragePooling2D: {}
  - Dense: {units: 2}
"""
    spec = zoo.Spec.from_yaml(text)
    s = zoo.summary(spec, engine="formula")
    assert [r.output_shape for r in s.rows] == [
        (None, None, None, 4),
        (None, None, None, 4),
        (None, 4),
        (None, 2),
    ]
    assert s.macs is None and s.total_params == 112 + 10
    assert s == zoo.summary(spec, engine="keras")
    with pytest.raises(zoo.SpecError, match="the last dimension of the inputs must be defined"):
        zoo.summary(zoo.Spec.from_yaml(text.replace("GlobalAveragePooling2D", "Flatten")), engine="formula")
    with pytest.raises(
        zoo.SpecError, match=r"the channel axis \(the last, data_format channels_last\) must be given"
    ):
        zoo.Spec.from_yaml(text.replace("[null, null, 3]", "[8, 8, null]"))


# ---------------------------------------------------------------- several outputs, carried by a repeat

CELLS = """\
family: cells
description: a cell that takes two inputs and gives two, repeated as NASNet's are
model: functional
input: [8, 8, 3]
params: {cells: 3, last: true}
variants:
  cells_a: {}
blocks:
  cell:                               # def cell(ip, p, k): ...; return x, ip
    inputs: [ip, p]
    outputs: [x, ip]
    params: [k]
    layers:
      - Conv2D: {name: "conv_{k}", filters: 3, kernel_size: 1, inputs: [ip]}
      - Add: {name: "add_{k}", id: x, inputs: ["conv_{k}", p]}
layers:
  - Conv2D: {name: stem, filters: 3, kernel_size: 1}
  - {use: cell, as: "cell_{i}", repeat: =cells, inputs: [stem, stem], outputs: [x, p], k: =i}
  - {use: cell, as: cell_last, inputs: [p, x], outputs: [x, p], k: 0, when: =last}
  - Add: {name: both, inputs: [x, p]}
  - GlobalAveragePooling2D: {name: pool}
"""


def keras_cells(cells: int, last: bool):
    """CELLS written as Python, the way keras.applications' NASNet writes its loops."""
    import keras
    from keras import layers

    def cell(ip, p, k):
        x = layers.Conv2D(3, 1, name=f"conv_{k}")(ip)
        x = layers.Add(name=f"add_{k}")([x, p])
        return x, ip

    keras.utils.clear_session()
    inputs = keras.Input((8, 8, 3))
    x = p = layers.Conv2D(3, 1, name="stem")(inputs)
    for i in range(1, cells + 1):
        x, p = cell(x, p, i)
    if last:
        x, p = cell(p, x, 0)
    x = layers.Add(name="both")([x, p])
    return keras.Model(inputs, layers.GlobalAveragePooling2D(name="pool")(x))


@pytest.mark.parametrize(("cells", "last"), [(1, True), (2, False), (4, True)])
def test_a_repeat_carries_each_output_to_the_next_repetition_s_input_as_keras_s_loop_does(cells, last):
    from keras_reference import model_differences

    theirs = keras_cells(cells, last)
    ours = zoo.build(load(CELLS, cells=cells, last=last), compile=False)
    assert model_differences(ours, theirs) == []


def test_outputs_name_a_block_s_results_and_a_switched_off_use_leaves_them_as_they_were():
    by_name = {layer.name: layer for layer in load(CELLS, cells=3).layers}
    # cell 3 took (add_2, add_1): its outputs are x = add_3 and p = its ip, add_2
    assert by_name["add_3"].inputs == ("conv_3", "add_1")
    # the last cell took (p, x) = (add_2, add_3) and gave x = add_0, p = add_2
    assert by_name["conv_0"].inputs == ("add_2",) and by_name["add_0"].inputs == ("conv_0", "add_3")
    assert by_name["both"].inputs == ("add_0", "add_2")
    # switched off, the last cell leaves x and p as the loop left them (Python's `if`)
    off = {layer.name: layer for layer in load(CELLS, cells=3, last=False).layers}
    assert "add_0" not in off and off["both"].inputs == ("add_3", "add_2")
    # the item after a use takes its first output by default, and its `as` names that output
    text = CELLS.replace("inputs: [x, p]}", "inputs: [cell_3, p]}")
    assert {layer.name: layer for layer in load(text, cells=3, last=False).layers}["both"].inputs == (
        "add_3",
        "add_2",
    )


def test_a_repeated_use_without_outputs_still_chains_its_first_input():
    """The rule for one-input blocks is unchanged: a repetition takes the previous one's output."""
    spec = load(name="tiny_b")
    assert {layer.name: layer for layer in spec.layers}["stage_2_conv"].inputs == ("stage_1_add",)


@pytest.mark.parametrize("depth", [1, 3])
def test_outputs_name_a_repeated_one_input_block_s_last_output_whatever_the_count(depth):
    """`x = stack_fn(x)`, as MobileNetV3 reads x.shape after its stack: `outputs: [x]` on a use of a
    block without `outputs:` names its last repetition's last item, a name that is there whatever
    the repeat count (the `as:` names change with it)."""
    text = FAMILY.replace('project: "=i == 1"}', 'project: "=i == 1", outputs: [x]}').replace(
        "  - GlobalAveragePooling2D: {name: pool}",
        '  - Conv2D: {name: head_conv, filters: "=3 * shape(x)[-1]", kernel_size: 1, inputs: [x]}\n'
        "  - GlobalAveragePooling2D: {name: pool}",
    )
    by_name = {layer.name: layer for layer in load(text, name="tiny_b", depth=depth).layers}
    assert by_name["head_conv"].inputs == (f"stage_{depth}_add",)
    assert by_name["head_conv"].args["filters"] == 3 * 8  # width 4, doubled by the units


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "outputs: [x, ip]",
            "outputs: [x, ipp]",
            "specs/tiny.yaml:11: blocks.cell.outputs[1]: unknown layer 'ipp'; did you mean 'ip'? (a block "
            "sees only its own layers and its inputs). Received: outputs='ipp'\n"
            "  in cell_1 = cell(k=1, i=1), used at specs/tiny.yaml:18",
        ),
        (
            "outputs: [x, ip]",
            "outputs: x",
            "specs/tiny.yaml:11: blocks.cell.outputs: must be a non-empty list of the handles (its layers or "
            "inputs) the block gives, in order. Received: outputs='x'",
        ),
        (
            "    outputs: [x, ip]\n",
            "",
            "specs/tiny.yaml:17: layers[1].repeat: block 'cell' gives 1 output(s): (its last item), and "
            "takes 2 input(s): ip, p",
        ),
        (
            "outputs: [x, p], k: 0",
            "outputs: [x, p, r], k: 0",
            "specs/tiny.yaml:19: layers[2].outputs: block 'cell' gives 2 output(s): x, ip; the use names "
            "each once, in order. Received: outputs=['x', 'p', 'r']",
        ),
        ("outputs: [x, p], k: 0", "outputs: x, k: 0", "layers[2].outputs: must be a list of names, one for"),
        ("outputs: [x, p], k: 0", "outputs: [x, 2], k: 0", "layers[2].outputs: must be a list of names"),
        ("outputs: [x, p], k: 0", "outputs: [x, .p], k: 0", "layers[2].outputs: must be a list of names"),
        (
            "outputs: [x, p], k: 0",
            "outputs: [p, p], k: 0",
            "layers[2].outputs[1]: output name 'p' is given twice",
        ),
        # a use binds the names it gives, and only those: `p` is unknown after it
        (
            "outputs: [x, p], k: =i",
            "outputs: [x, q], k: =i",
            "specs/tiny.yaml:20: layers[3].Add.inputs[1]: unknown layer 'p'",
        ),
        # a use that is switched off binds nothing: its output names are checked all the same
        ("outputs: [x, p], k: 0", "outputs: [x], k: 0", "layers[2].outputs: block 'cell' gives 2 output(s)"),
    ],
)
def test_output_mistakes_are_spec_errors_at_their_line(old, new, message):
    assert old in CELLS
    with pytest.raises(zoo.SpecError, match=re.escape(message)):
        load(CELLS.replace(old, new, 1), last=False)
