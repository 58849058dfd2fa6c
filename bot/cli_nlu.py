"""`loginbot nlu ...`: parse messages, fit and save the model, test it the way `rasa test nlu` does."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

nlu_app = typer.Typer(help="The embedded language recognizer.", no_args_is_help=True)


def _fail(message: str) -> typer.Exit:
    typer.echo(f"loginbot: {message}", err=True)
    return typer.Exit(code=2)


@nlu_app.command("parse")
def nlu_parse(
    text: Annotated[
        str | None, typer.Argument(help="The message; one per line on standard input when omitted.")
    ] = None,
) -> None:
    """Print the recognizer's result in Rasa's parse format (JSON)."""
    from intents.recognizer import Recognizer

    recognizer = Recognizer.default()
    if text is not None:
        typer.echo(json.dumps(recognizer.parse(text).as_rasa(), ensure_ascii=False))
        return
    for line in sys.stdin:
        sys.stdout.write(
            json.dumps(recognizer.parse(line.rstrip("\r\n")).as_rasa(), ensure_ascii=False) + "\n"
        )
        sys.stdout.flush()


@nlu_app.command("train")
def nlu_train(
    data: Annotated[
        Path | None, typer.Option("--data", help="Rasa NLU data folder (the shipped one).")
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Model file (the shipped one).")] = None,
) -> None:
    """Fit the recognizer on the training data and save the model that every start then loads."""
    from intents.artifact import DATA_DIR, MODEL_PATH, train

    folder, target = data or DATA_DIR, out or MODEL_PATH
    if not folder.is_dir():
        raise _fail(f"{folder}: no such folder")
    try:
        model = train(folder, target)
    except (ValueError, OSError) as error:  # TrainingDataError is a ValueError
        raise _fail(str(error)) from None
    typer.echo(f"{target}: {len(model.classes['intent'])} intents, digest {model.digest[:12]}")


@nlu_app.command("test")
def nlu_test(
    cross_validation: Annotated[
        bool,
        typer.Option("--cross-validation", help="Fit on all folds but one, test on that one, for each fold."),
    ] = False,
    folds: Annotated[int, typer.Option("--folds", min=2, max=50, help="Folds of the cross-validation.")] = 5,
    data: Annotated[
        Path | None,
        typer.Option("--data", help="Rasa NLU file or folder to test on (default: the training data)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Intent precision, recall and F1 (per language), confusions with examples, entity scores."""
    from intents.artifact import DATA_DIR
    from intents.evaluation import cross_validate, evaluate
    from intents.recognizer import Recognizer
    from intents.training_data import TrainingDataError, load_directory, load_file, nlu_files

    path = data or DATA_DIR
    try:
        if path.is_dir():
            if not nlu_files(path):
                raise _fail(f"{path}: no Rasa NLU file (a .yml with an `nlu:` key) in this folder")
            tested = load_directory(path)
        elif path.is_file():
            tested = load_file(path)
        else:
            raise _fail(f"{path}: no such file or folder")
        teams = sorted({*tested.lookups.get("team", []), *load_directory(DATA_DIR).lookups.get("team", [])})
        if not tested.examples:
            raise _fail(f"{path}: no intent examples to test on")
        if cross_validation:
            report = cross_validate(tested, folds=folds, teams=teams)
        else:
            report = evaluate(Recognizer.default(), tested, teams=teams)
    except (TrainingDataError, OSError, UnicodeDecodeError) as error:
        raise _fail(str(error)) from None
    except ValueError as error:  # too few examples for the folds, fewer than two intents
        raise _fail(f"{path}: {error}") from None
    if as_json:
        typer.echo(json.dumps(report.as_json(), ensure_ascii=False, indent=2))
    else:
        typer.echo("\n".join(render(report.as_json())))


def render(result: dict[str, Any]) -> list[str]:
    """The report as text tables: intents overall and per language, confusions, entities."""
    intents = result["intent_evaluation"]
    how = f"{result['folds']}-fold cross-validation" if result["folds"] else "test set"
    lines = [f"{result['messages']} messages, {how}", ""]
    accuracy = [f"intent accuracy {intents['accuracy']:.3f}"]
    accuracy += [f"{lang} {part['accuracy']:.3f}" for lang, part in intents["per_language"].items()]
    lines.append(" | ".join(accuracy))
    languages = result["language_evaluation"]["per_language"]
    lines.append(
        "language accuracy " + " | ".join(f"{lang} {value:.3f}" for lang, value in languages.items())
    )
    lines += ["", *_table("intent", intents["report"])]
    for lang, part in intents["per_language"].items():
        lines += ["", *_table(f"intent ({lang})", part["report"])]
    lines += ["", "confusions (annotated -> predicted: count, examples)"]
    for confusion in intents["confusions"] or []:
        lines.append(f"  {confusion['intent']} -> {confusion['predicted']}: {confusion['count']}")
        lines += [f"      {e['language']} {e['confidence']:.2f}  {e['text']}" for e in confusion["examples"]]
    if not intents["confusions"]:
        lines.append("  none")
    lines += ["", *_table("entity", result["entity_evaluation"]["report"])]
    return lines


def _table(title: str, rows: dict[str, dict[str, float]]) -> list[str]:
    width = max([len(title), *(len(name) for name in rows)])
    out = [f"{title:<{width}}  precision  recall  f1-score  support"]
    for name, row in rows.items():
        out.append(
            f"{name:<{width}}  {row['precision']:9.3f}  {row['recall']:6.3f}  {row['f1-score']:8.3f}"
            f"  {int(row['support']):7d}"
        )
    return out
