"""Request and response schemas, for the OpenAPI document.

The hot endpoints parse bodies themselves (orjson straight to NumPy, :mod:`learnloop.serving.parsing`); these
pydantic models describe the same contract so the generated OpenAPI spec (``/openapi.json``, ``/docs``) is complete.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

Label = int | str


class PredictRequest(BaseModel):
    """The request body of an array model (a table model's is documented per model: its raw fields)."""

    model_config = ConfigDict(extra="forbid")
    instances: list[list[Any]] = Field(
        ..., min_length=1,
        description="n >= 1 instances, each of the model's input shape (a list of numbers for a (n, d) model, "
                    "nested lists for images). Finite numbers only: NaN, Infinity, booleans, strings and nulls are "
                    "refused with 422 naming the field.")


class Prediction(BaseModel):
    label: Label | None = Field(None, description="Predicted class label (classifiers).")
    probabilities: list[float] | None = Field(
        None, description="Probability of each class, in the order of the model's classes (classifiers).")
    value: float | list[float] | None = Field(None, description="Predicted value(s) (regressors).")


class PredictResponse(BaseModel):
    predictions: list[Prediction] = Field(..., description="One prediction per instance, in request order.")
    model_version: str = Field(..., description="Version (content hash) of the model file that answered.")
    request_id: str = Field(..., description="Id of the logged request; send it back with :feedback.")


class ErrorResponse(BaseModel):
    detail: str = Field(..., description="What was wrong, where, what was expected and what arrived.")
    field: str | None = Field(None, description="The part of the request at fault, e.g. 'instances[2][5]'.")
    expected: str | None = Field(None, description="What that part should hold.")


class InputField(BaseModel):
    type: str = Field(..., description="JSON type the feature reads: 'number', 'integer' or 'string'.")
    nullable: bool = Field(..., description="null (or leaving the field out) is accepted: the feature imputes.")
    required: bool
    example: Any = Field(None, description="A typical training value (median, or most frequent category).")


class ModelInfo(BaseModel):
    name: str
    version: str
    task: str = Field(..., description="'multiclass', 'binary' or 'regression' (from the compiled loss).")
    input_format: str = Field(..., description="'arrays' (instances are lists of numbers of input_shape) or 'rows' "
                                               "(a table model: instances are objects of raw fields).")
    input_shape: list[int | None] = Field(..., description="Input shape of the network, batch axis first (None); "
                                                           "for a table model, after its feature pipeline.")
    fields: dict[str, InputField] | None = Field(None, description="A table model's raw input fields.")
    ignored_fields: list[str] | None = Field(None, description="Columns a table model accepts and ignores "
                                                               "(target, group and dropped columns).")
    expected_instances: str | None = None
    classes: list[Label] | None
    loss: str | None
    from_logits: bool
    trained_at: str | None
    loaded_at: str
    file: str
    has_reference_statistics: bool
    last_reload_error: str | None = Field(None, description="Why the last reload of the file failed (the version "
                                                            "above still serves), or null.")
    last_reload_error_at: str | None = None


class FeedbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    request_id: str = Field(..., min_length=1, description="request_id of an earlier prediction.")
    label: Label = Field(..., description="The true label of that instance; one of the model's classes.")
    instance: int = Field(0, ge=0, description="Which instance of that request (0 for single-row requests).")


class LiveAccuracy(BaseModel):
    labelled: int
    correct: int
    accuracy: float | None


class FeedbackResponse(BaseModel):
    request_id: str
    instance: int
    label: Label
    predicted: Label | None
    correct: bool
    live_accuracy: LiveAccuracy


class ReloadResponse(BaseModel):
    model_version: str
    previous_version: str
    swapped: bool


class FeatureDrift(BaseModel):
    name: str
    psi: float
    ks_statistic: float | None
    ks_pvalue: float | None
    type: str | None = Field(None, description="Table models: 'numeric' or 'categorical' (a raw field).")
    missing: float | None = Field(None, description="Table models: fraction of missing values in the window.")
    unseen: int | None = Field(None, description="Categorical fields: values in the window never seen in "
                                                 "training (they take the out-of-vocabulary slot).")


class MonitorResponse(BaseModel):
    model: str
    model_version: str
    requests_seen: int = Field(..., description="Instances added to the window since the server started "
                                                "(plus those read back from the log at start).")
    drift: dict | None = Field(None, description="window_size, status ('no_data'|'insufficient_data' (fewer than "
                                                 "100 instances)|'stable'|'moderate'|'drift'), "
                                                 "max_psi, drifted_features, top, features (FeatureDrift each: "
                                                 "one per input feature, or per raw field of a table model), "
                                                 "prediction, and for table models unseen_values.")
    live_accuracy: LiveAccuracy
    detail: str | None = None
    unreadable_log_rows: int | None = Field(None, description="Logged rows that could not be read back into the "
                                                              "window at start (skipped).")
