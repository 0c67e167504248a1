"""The Keras parity table: every public name of Keras 3's modules, and what learnloop has for it.

    python docs/keras/parity.py            # rewrites docs/reference/keras-parity.md (a test checks it is current)

The names and their parameters come from keras3.json (written by dump_names.py from an installed Keras 3). The status
of each name is read from learnloop's code:

- **supported**: ``learnloop.<module>.<name>`` exists and takes every parameter Keras's takes (its own, or through
  ``**kwargs`` into a base class that names them);
- **partial**: it exists, but some Keras parameters are missing (listed), or ``PARTIAL`` below says what else is;
- **not**: it does not exist; ``NOT`` below says what to use instead (a name missing from both fails the test). A
  Keras name given as a string (``kernel_initializer="glorot_uniform"``) that learnloop's ``get()`` understands says
  so.

``DIFFERS`` holds behaviour that differs from Keras where the name is there; the API reference shows these notes
(and the missing parameters) under each name as "Differs from Keras".
"""

from __future__ import annotations

import importlib
import inspect
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
NAMES = HERE / "keras3.json"
PAGE = HERE.parent / "reference" / "keras-parity.md"
MODULES = ("layers", "losses", "optimizers", "callbacks", "activations", "regularizers", "initializers", "metrics",
           "utils", "models")
MODEL = "Sequential/Model"          # the module column of model members

_ADD = ("there is no other layer with several inputs: learnloop models are Sequential; combine features before the "
        "model (FeatureSpace(output_mode='concat') for columns, np.concatenate for arrays)")
_RNN = "no recurrent layers; short signals go through Conv1D and pooling (the ECG tutorial)"
_ATTENTION = "no attention layers (learnloop's networks are dense and convolutional)"
_3D = "only 1-D and 2-D convolution and pooling"
_AUGMENT = ("image augmentation has RandomRotation, RandomZoom, RandomTranslation, RandomFlip and GaussianNoise "
            "layers, and learnloop.data.augment (rotate, zoom, translate, elastic_warp, add_noise) for arrays")
_NORM = ("no normalization between layers: normalize the inputs with Normalization (adapt) or Rescaling, and "
         "regularize with Dropout or kernel_regularizer")
_TEXT = ("no text layers: bag-of-words features from scikit-learn's CountVectorizer (the spam tutorial); "
         "StringLookup / IntegerLookup / Hashing with CategoryEncoding for categorical columns")
_SIZE = ("no cropping, padding or resizing layers: bring images to one size with NumPy or scipy.ndimage before "
         "fit; Conv1D/Conv2D take padding='same'")
_BRIDGE = ("a bridge to another framework or backend: learnloop layers are NumPy code (subclass "
           "learnloop.layers.Layer with forward and backward)")
_SERIAL = ("models are saved whole: model.save('model.zip') and learnloop.load_model; a layer's get_config() / "
           "from_config() give its settings")
_LOSSES = ("not built in: the losses are BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy, "
           "MeanSquaredError and MeanAbsoluteError; a custom loss subclasses learnloop.losses.Loss with its value "
           "and gradient")
_OPTIMIZERS = ("not built in: SGD (momentum, Nesterov), Adam (amsgrad), AdamW and RMSprop; an optimizer is its "
               "update rule (subclass learnloop.optimizers.Optimizer)")
_METRICS = ("not a compile() metric: compile takes accuracy (binary / categorical / sparse), MSE and MAE; compute "
            "others from model.predict with scikit-learn (precision, recall, F1, AUC, R2...), and "
            "learnloop.diagnostics.j_measures gives J with 95% intervals")
_ACTIVATIONS = ("not built in: linear, sigmoid, relu, leaky_relu, tanh, softmax, log_softmax, elu, gelu and "
                "softplus are")
_INITIALIZERS = ("not built in: Zeros, Ones, Constant, RandomNormal, RandomUniform, TruncatedNormal, GlorotNormal, "
                 "GlorotUniform, HeNormal, HeUniform, LecunNormal, LecunUniform and VarianceScaling are")
_LOADERS = ("learnloop downloads and decodes no files: load arrays with NumPy / scikit-learn (load_digits...) or "
            "tables with learnloop.data.read_table; fit takes arrays, dicts of columns, PyDataset or generators")

# What to use instead of a Keras name learnloop does not have: (module, pattern, note); the first match wins.
NOT: list[tuple[str, str, str]] = [
    ("layers", r"Add|Subtract|Multiply|Average|Maximum|Minimum|Concatenate|Dot|add|subtract|multiply|average|"
               r"maximum|minimum|concatenate|dot", _ADD),
    ("layers", r"RNN|SimpleRNN(Cell)?|LSTM(Cell)?|GRU(Cell)?|ConvLSTM[123]D|Bidirectional|StackedRNNCells|"
               r"TimeDistributed|Masking", _RNN),
    ("layers", r"Attention|AdditiveAttention|MultiHeadAttention|GroupQueryAttention", _ATTENTION),
    ("layers", r"Conv3D|Convolution3D|MaxPooling3D|MaxPool3D|AveragePooling3D|AvgPool3D|GlobalAveragePooling3D|"
               r"GlobalAvgPool3D|GlobalMaxPooling3D|GlobalMaxPool3D|Cropping3D|ZeroPadding3D|UpSampling3D|"
               r"SpatialDropout3D|Conv3DTranspose|Convolution3DTranspose", _3D),
    ("layers", r"Convolution([12])D", r"the same layer is Conv\1D (the alias is not defined)"),
    ("layers", r"MaxPool([12])D", r"the same layer is MaxPooling\1D (the alias is not defined)"),
    ("layers", r"AvgPool([12])D", r"the same layer is AveragePooling\1D (the alias is not defined)"),
    ("layers", r"GlobalAvgPool([12])D", r"the same layer is GlobalAveragePooling\1D (the alias is not defined)"),
    ("layers", r"GlobalMaxPool([12])D", r"the same layer is GlobalMaxPooling\1D (the alias is not defined)"),
    ("layers", r"Adaptive(Average|Max)Pooling[123]D", "no adaptive pooling: pool with a fixed pool_size, or "
               "GlobalAveragePooling / GlobalMaxPooling"),
    ("layers", r"(Conv|Convolution)[12]DTranspose|SeparableConv(olution)?[12]D|DepthwiseConv[12]D",
     "only plain convolutions: Conv1D and Conv2D"),
    ("layers", r"Cropping[12]D|ZeroPadding[12]D|UpSampling[12]D|Resizing|CenterCrop", _SIZE),
    ("layers", r"Random\w+|AugMix|CutMix|MixUp|RandAugment|AutoContrast|Equalization|Solarization|"
               r"ContrastLimitedAdaptiveHistogramEqualization|MaxNumBoundingBoxes", _AUGMENT),
    ("layers", r"\w*Normalization", _NORM),
    ("layers", r"Embedding|ReversibleEmbedding|TextVectorization", _TEXT),
    ("layers", r"AlphaDropout|GaussianDropout|SpatialDropout[12]D", "use Dropout, or GaussianNoise"),
    ("layers", r"ActivityRegularization", "penalize weights with kernel_regularizer (L1, L2, L1L2); activity "
               "penalties are not available"),
    ("layers", r"ELU", "use Activation('elu')"),
    ("layers", r"PReLU", "use LeakyReLU (a fixed slope) or Activation('leaky_relu')"),
    ("layers", r"Identity", "not needed: leave the layer out of the Sequential list"),
    ("layers", r"Lambda", "a Lambda layer wraps an arbitrary function, whose derivative learnloop cannot know: "
               "subclass learnloop.layers.Layer with forward(x, training) and backward(grad)"),
    ("layers", r"Permute|RepeatVector", "use Reshape or Flatten; axes cannot be permuted or repeated in a model"),
    ("layers", r"EinsumDense", "use Dense"),
    ("layers", r"MelSpectrogram|STFTSpectrogram", "no audio front ends: compute spectrograms with scipy.signal "
               "before fit"),
    ("layers", r"FlaxLayer|JaxLayer|TorchModuleWrapper|TFSMLayer|Wrapper|InputSpec|Pipeline", _BRIDGE),
    ("layers", r"serialize|deserialize", _SERIAL),
    ("losses", r"(?i)\w*(focal|hinge|huber|kl_?divergence|log_?cosh|percentage|logarithmic|poisson|cosine|ctc|"
               r"dice|tversky|circle|generalized)\w*", _LOSSES),
    ("losses", r"serialize|deserialize", _SERIAL),
    ("optimizers", r"Adadelta|Adafactor|Adagrad|Adamax|Ftrl|Lamb|Lion|Muon|Nadam|ScheduleFreeAdamW", _OPTIMIZERS),
    ("optimizers", r"LossScaleOptimizer", "no mixed precision: learnloop computes in float32 or float64"),
    ("optimizers", r"MultiOptimizer|OptimizerMap", "one optimizer per model; freeze layers (layer.trainable = False) "
                   "to train only some of them"),
    ("optimizers", r"schedules", "learning-rate schedules: LearningRateScheduler(lambda epoch, lr: ...) or "
                   "ReduceLROnPlateau callbacks"),
    ("optimizers", r"legacy", "Keras 2's optimizers: use the current SGD, Adam, AdamW, RMSprop"),
    ("optimizers", r"serialize|deserialize", _SERIAL),
    ("callbacks", r"BackupAndRestore|OrbaxCheckpoint", "use ModelCheckpoint: a loaded model's fit continues where it "
                  "stopped (the optimizer state is in the file)"),
    ("callbacks", r"ProgbarLogger", "fit(verbose=1) draws the progress bar (tqdm)"),
    ("callbacks", r"RemoteMonitor", "use CSVLogger or a LambdaCallback that posts the logs"),
    ("callbacks", r"SwapEMAWeights", "no exponential moving average of the weights"),
    ("callbacks", r"TensorBoard", "TensorBoard logs are not written; fit's History (and CSVLogger) keep every "
                  "metric per epoch, and learnloop run plots the curves"),
    ("activations", r"serialize|deserialize", "activations are given by name: activation='relu'"),
    ("activations", r"\w+", _ACTIVATIONS),
    ("regularizers", r"OrthogonalRegularizer|orthogonal_regularizer", "use L1, L2 or L1L2"),
    ("regularizers", r"serialize|deserialize", _SERIAL),
    ("initializers", r"serialize|deserialize", _SERIAL),
    ("initializers", r"\w+", _INITIALIZERS),
    ("metrics", r"serialize|deserialize", _SERIAL),
    ("metrics", r"\w+", _METRICS),
    ("utils", r"to_categorical", "np.eye(k)[y] one-hot encodes; or keep integer labels with "
              "SparseCategoricalCrossentropy"),
    ("utils", r"normalize", "the Normalization layer (adapt on the training set), or scikit-learn's normalize"),
    ("utils", r"plot_model|model_to_dot", "model.summary() prints the layers, shapes and parameters"),
    ("utils", r"\w+_dataset_from_\w+|get_file|load_img|save_img|img_to_array|array_to_img", _LOADERS),
    ("utils", r"split_dataset", "learnloop.data.train_cv_test_split (or train_test_split) on arrays"),
    ("utils", r"pad_sequences", "no sequence models: pad with NumPy (np.pad) if a fixed length is needed"),
    ("utils", r"Progbar", "fit, evaluate and predict take verbose=1 for a tqdm progress bar"),
    ("utils", r"register_keras_serializable|get_registered_\w+|get_custom_objects|custom_object_scope|"
              r"CustomObjectScope|serialize_keras_object|deserialize_keras_object",
     "learnloop.layers.register(cls) adds a layer class to the classes a saved model may name; nothing else is "
     "ever loaded by name"),
    ("utils", r"clear_session", "not needed: learnloop keeps no graph or session state (set_random_seed resets the "
              "random state)"),
    ("utils", r"\w+_interactive_logging\w*", "pass verbose=0 to fit, evaluate and predict"),
    ("utils", r"pack_x_y_sample_weight|unpack_x_y_sample_weight", "a PyDataset batch is a tuple (x, y) or (x, y, "
              "sample_weight)"),
    ("utils", r"is_keras_tensor|get_source_inputs", "model.input is a learnloop.shapes.SymbolicTensor "
              "(isinstance works)"),
    ("utils", r"standardize_dtype", "learnloop computes in float32 or float64: learnloop.set_floatx"),
    ("utils", r"timeseries_dataset_from_array", "make windows with numpy.lib.stride_tricks.sliding_window_view"),
    ("utils", r"Config|legacy|bounding_boxes", "not available (Keras internals, Keras 2 names, object detection)"),
    ("models", r"Model", "learnloop models are Sequential; learnloop.compat.tensorflow's tf.keras.Model(inputs, "
               "outputs) builds a chain of layers from Input"),
    ("models", r"model_from_json", "Sequential.from_config(json.loads(text)), or save and load_model"),
    ("models", r"save_model", "model.save('model.zip')"),
    (MODEL, r"build_from_config|get_build_config|compile_from_config|get_compile_config",
     "get_config() holds the layers and the compile settings; model.save / load_model round-trip both"),
    (MODEL, r"export", "`learnloop export model.zip --format onnx` or learnloop.export.to_onnx (ONNX, checked "
            "against onnxruntime)"),
    (MODEL, r"to_json", "json.dumps(model.get_config())"),
    (MODEL, r"predict_step|test_step", "the steps are not meant to be overridden (no automatic differentiation); "
            "predict_on_batch and test_on_batch take one batch"),
    (MODEL, r"metrics", "model.metrics_names lists them; History.history and evaluate(return_dict=True) hold the "
            "values"),
]

# Names learnloop has with more missing than parameters, or with a note on the parameters that are missing.
PARTIAL: dict[str, str] = {
    f"{MODEL}.train_step": "train_step(x, y, sample_weight) takes the arrays of one batch and returns the loss and "
                           "the output; it is the training loop's step, not a hook to override",
    "layers.Layer": "a custom layer defines forward(x, training) and backward(grad) instead of call(): learnloop has "
                    "no automatic differentiation",
    "layers.ReLU": "Activation('relu') or LeakyReLU cover the negative slope; no max_value or threshold",
    "models.load_model": "reads learnloop's model files (one zip); Keras .keras / .h5 files are not read. Nothing in "
                         "a file is ever executed: layer classes come from learnloop.layers.REGISTRY, so "
                         "custom_objects and safe_mode have no role",
}

# Behaviour that differs from Keras where learnloop has the name and its parameters.
DIFFERS: dict[str, str] = {
    f"{MODEL}.predict": "prints nothing by default and works through the rows in chunks sized so the largest array "
                        "of the forward pass stays near 3 MB (same numbers as Keras's 32-row batches, faster)",
    f"{MODEL}.evaluate": "prints only with verbose=1",
    f"{MODEL}.save": "writes one zip (JSON config, .npz weights and optimizer state), never a pickle; fit on the "
                     "loaded model continues where training stopped",
    f"{MODEL}.summary": "style='keras2' prints Keras 2's layout (the default is Keras 3's box)",
    "metrics.BinaryAccuracy": "with a loss that has from_logits=True the logits are thresholded at 0 (Keras "
                              "thresholds them at 0.5, which reports a wrong accuracy)",
    "losses.BinaryCrossentropy": "a sigmoid output paired with from_logits=True warns, and so does a linear output "
                                 "with from_logits=False",
    "losses.CategoricalCrossentropy": "a softmax output paired with from_logits=True warns, and so does a linear "
                                      "output with from_logits=False",
    "losses.SparseCategoricalCrossentropy": "a softmax output paired with from_logits=True warns, and so does a "
                                            "linear output with from_logits=False",
}


@dataclass(frozen=True)
class Entry:
    module: str                 # a Keras module name, or MODEL
    name: str
    kind: str
    status: str                 # "supported", "partial", "not"
    note: str
    missing: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.module}.{self.name}"


def keras_names() -> dict:
    return json.loads(NAMES.read_text(encoding="utf-8"))


def _model_instance():
    """A tiny compiled, trained learnloop model: its instance attributes (history, loss...) exist."""
    import numpy as np

    import learnloop

    model = learnloop.Sequential([learnloop.Input((2,)), learnloop.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(np.zeros((4, 2), "float32"), np.zeros((4, 1), "float32"), epochs=1, verbose=0)
    return model


def accepted(obj) -> set[str] | None:
    """The keyword names ``obj`` takes: its own, and those of the base-class constructors its **kwargs reach."""
    targets = [c.__init__ for c in inspect.getmro(obj) if "__init__" in vars(c)] if inspect.isclass(obj) else [obj]
    names: set[str] = set()
    for target in targets:
        try:
            parameters = inspect.signature(target).parameters.values()
        except (TypeError, ValueError):
            return None
        names |= {p.name for p in parameters if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}
        if not any(p.kind == p.VAR_KEYWORD for p in parameters):
            break
    return names


def learnloop_object(module: str, name: str, model=None):
    """What learnloop has under Keras's ``module.name``, or None."""
    if module == MODEL:
        model = model if model is not None else _model_instance()
        return getattr(type(model), name, None) if hasattr(type(model), name) else (
            getattr(model, name) if name in vars(model) else None)
    return getattr(importlib.import_module(f"learnloop.{module}"), name, None)


def _as_string(module: str, name: str) -> str | None:
    """learnloop's ``get(name)`` of the module understands the Keras name as a string."""
    if module not in ("activations", "initializers", "losses", "optimizers", "regularizers"):
        return None
    get = importlib.import_module(f"learnloop.{module}").get
    try:
        get(name)
    except Exception:           # noqa: BLE001 - any refusal means "not as a string"
        return None
    argument = {"activations": "activation", "initializers": "kernel_initializer", "losses": "loss",
                "optimizers": "optimizer", "regularizers": "kernel_regularizer"}[module]
    classes = [n for n in dir(importlib.import_module(f"learnloop.{module}"))
               if n[:1].isupper() and n.lower() == name.replace("_", "").lower()]
    return f"as a string: {argument}={name!r}" + (f", or the class {classes[0]}" if classes else "")


def _not_note(module: str, name: str) -> str | None:
    for where, pattern, note in NOT:
        found = re.fullmatch(pattern, name)
        if where == module and found:
            return found.expand(note)
    return None


def entries() -> list[Entry]:
    data = keras_names()
    model = _model_instance()
    groups = [(m, data["modules"][m]) for m in MODULES] + [(MODEL, data["model"])]
    out = []
    for module, names in groups:
        for name, info in sorted(names.items(), key=lambda kv: kv[0].lower()):
            key = f"{module}.{name}"
            obj = learnloop_object(module, name, model)
            if obj is None:
                note = _as_string(module, name) or _not_note(module, name)
                out.append(Entry(module, name, info["kind"], "not", note or ""))
                continue
            params = info.get("params") or []
            attribute = module == MODEL and name in vars(model)
            have = accepted(obj) if callable(obj) and not attribute else set(params)
            missing = tuple(p for p in params if have is not None and p not in have)
            status = "partial" if missing or key in PARTIAL else "supported"
            notes = [PARTIAL.get(key, ""), DIFFERS.get(key, "")]
            if missing:
                notes.insert(0, "missing: " + ", ".join(missing))
            out.append(Entry(module, name, info["kind"], status, "; ".join(n for n in notes if n), missing))
    return out


def counts(rows: list[Entry]) -> dict[str, dict[str, int]]:
    table: dict[str, dict[str, int]] = {}
    for row in rows:
        table.setdefault(row.module, {"supported": 0, "partial": 0, "not": 0})[row.status] += 1
    return table


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def markdown(rows: list[Entry] | None = None) -> str:
    rows = entries() if rows is None else rows
    version = keras_names()["keras_version"]
    table = counts(rows)
    lines = [
        "# Keras parity",
        "",
        f"Every public name of Keras {version}'s `keras.layers`, `keras.losses`, `keras.optimizers`, "
        "`keras.callbacks`, `keras.activations`, `keras.regularizers`, `keras.initializers`, `keras.metrics`, "
        "`keras.utils` and `keras.models`, and the `Sequential`/`Model` members the course and the Keras guides use, "
        "with what learnloop has for it under the same module (`keras.layers.Dense` -> `learnloop.layers.Dense`, "
        "`model.fit` -> `learnloop.Sequential.fit`).",
        "",
        "- **supported**: learnloop has the name, and it takes every parameter Keras's takes.",
        "- **partial**: learnloop has the name; the note lists the Keras parameters it does not take, or what else "
        "differs.",
        "- **not**: learnloop does not have it; the note says what to use instead.",
        "",
        "Behaviour that differs where the name is supported is noted too, and shown under the name in the "
        "[Python API](api/index.md).",
        "",
        "This page is generated from the code (`python docs/keras/parity.py`) and from the list of Keras names "
        "committed in `docs/keras/keras3.json` (`python docs/keras/dump_names.py` writes it from an installed "
        "Keras); `tests/docs/test_keras_parity_table.py` checks that it is current, that every supported or partial "
        "name imports from learnloop, and, where Keras is installed, that the list still matches Keras.",
        "",
        "| module | supported | partial | not | total |",
        "|---|---:|---:|---:|---:|",
    ]
    for module, c in table.items():
        label = f"`keras.{module}`" if module != MODEL else f"`{MODEL}` members"
        lines.append(f"| [{label}](#{_anchor(module)}) | {c['supported']} | {c['partial']} | {c['not']} | "
                     f"{sum(c.values())} |")
    total = {s: sum(c[s] for c in table.values()) for s in ("supported", "partial", "not")}
    lines.append(f"| all | {total['supported']} | {total['partial']} | {total['not']} | {sum(total.values())} |")
    for module in table:
        title = f"keras.{module}" if module != MODEL else f"{MODEL} members"
        lines += ["", f"## {title}", "", "| name | status | notes |", "|---|---|---|"]
        for row in (r for r in rows if r.module == module):
            shown = f"`{row.name}`" if module != MODEL else f"`model.{row.name}`"
            lines.append(f"| {shown} | {row.status} | {_cell(row.note)} |")
    return "\n".join(lines) + "\n"


def _anchor(module: str) -> str:
    return f"keras-{module}" if module != MODEL else "sequential-model-members"


def learnloop_notes() -> dict[int, tuple[str, str]]:
    """{id of a learnloop object: (Keras name, note)} for each supported or partial name with a note: what the API
    reference shows as "Differs from Keras"."""
    model = _model_instance()
    out = {}
    for row in entries():
        if row.status != "not" and row.note:
            obj = learnloop_object(row.module, row.name, model)
            keras_name = f"keras.Model.{row.name}" if row.module == MODEL else f"keras.{row.module}.{row.name}"
            out[id(obj)] = (keras_name, row.note)
    return out


if __name__ == "__main__":
    PAGE.parent.mkdir(parents=True, exist_ok=True)
    PAGE.write_text(markdown(), encoding="utf-8")
    print(f"wrote {PAGE}", file=sys.stderr)
