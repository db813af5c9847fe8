"""The risk model on disk: skops files loaded with an explicit list of trusted types, and a JSON
model card beside them (DESIGN.md §5). No pickle: a skops file can only build the types below.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import skops.io as sio

CARD_FILE = "risk_model.json"
MODEL_FILES = {"late": "risk_model.skops", "days_late": "risk_days_model.skops"}
# What skops does not trust by default but our pipelines are made of; anything else is refused.
TRUSTED_TYPES = [
    "functools.partial",  # partial(check_array, ...) in the trees' own category preprocessor
    "models.risk_pipeline.HistoricalRateClassifier",
    "models.risk_pipeline.HoldoutCalibratedClassifier",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.utils.validation.check_array",
]


class ModelError(ValueError):
    """A problem with the trained model that the user can fix; the message is one line (a
    ValueError, so the command line reports it as `arlens: <message>` without a traceback)."""


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _replace(path: Path, write) -> None:
    """Write beside, then rename: a reader never sees half a file."""
    tmp = path.with_name(path.name + ".tmp")
    write(tmp)
    os.replace(tmp, path)


def save(model_dir: Path, models: dict, card: dict) -> dict:
    """Write every model with skops, then the card (with each file's sha256) last."""
    model_dir.mkdir(parents=True, exist_ok=True)
    files = {}
    for key, model in models.items():
        path = model_dir / MODEL_FILES[key]
        _replace(path, lambda tmp, model=model: sio.dump(model, tmp))
        files[key] = {"file": path.name, "sha256": _sha256(path)}
    card = {**card, "files": files, "trusted_types": TRUSTED_TYPES}
    text = json.dumps(card, indent=2, default=str)
    _replace(model_dir / CARD_FILE, lambda tmp: tmp.write_text(text))
    return card


def read_card(model_dir: Path) -> dict | None:
    """The model card, or None when no model was trained into `model_dir`."""
    path = Path(model_dir) / CARD_FILE
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ModelError(f"{path} is not a readable model card ({error}): retrain") from None


def untrusted_types(path: Path) -> list[str]:
    """The types in a skops file that are neither skops' defaults nor in TRUSTED_TYPES."""
    return sorted(set(sio.get_untrusted_types(file=path)) - set(TRUSTED_TYPES))


def load(model_dir: Path, card: dict) -> dict:
    """Every model the card lists, after checking its checksum and the types it would build."""
    models = {}
    for key, entry in card.get("files", {}).items():
        path = Path(model_dir) / entry["file"]
        if not path.exists():
            raise ModelError(f"{path} is missing: retrain (arlens train)")
        if _sha256(path) != entry["sha256"]:
            raise ModelError(
                f"{path} does not match its model card (changed since training): retrain"
            )
        unexpected = untrusted_types(path)
        if unexpected:
            raise ModelError(
                f"{path} holds types this version does not trust: {', '.join(unexpected)}"
            )
        models[key] = sio.load(path, trusted=TRUSTED_TYPES)
    return models
