"""`study` (protocol files) and `export` (the field's formats)."""

from __future__ import annotations

import argparse
from pathlib import Path

from flowtype_core.cli.common import add_data_dir, add_json, emit, workbench
from flowtype_core.errors import InvalidInput
from flowtype_core.export import FORMATS, export
from flowtype_core.studies import StudyRepository, assign, draft_protocol, overview, parse_yaml


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    study = sub.add_parser("study", help="create, edit and inspect study protocols (versioned YAML)")
    actions = study.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = actions.add_parser("create", help="create a study from a protocol YAML file")
    create.add_argument("--file", required=True, help="protocol YAML (see docs/STUDIES.md)")
    new = actions.add_parser("new", help="start a study with the defaults (Aalto questionnaire, corpus)")
    new.add_argument("study_id")
    new.add_argument("--title", required=True)
    new.add_argument("--conditions", default="default", help="comma-separated condition names")
    new.add_argument("--sentences", type=int, default=5, help="sentences per session")
    new.add_argument("--seed", type=int, default=0)
    edit = actions.add_parser("edit", help="save an edited protocol file of STUDY as its next version")
    edit.add_argument("study_id")
    edit.add_argument("--file", required=True)
    assign_cmd = actions.add_parser("assign", help="assign a participant to a condition (balanced, sticky)")
    assign_cmd.add_argument("study_id")
    assign_cmd.add_argument("participant_id")
    show = actions.add_parser("show", help="print a protocol (newest version unless --version)")
    show.add_argument("study_id")
    show.add_argument("--version", type=int)
    actions.add_parser("list", help="studies, their versions and participants per condition")
    for parser in actions.choices.values():
        add_data_dir(parser)
        add_json(parser)
    study.set_defaults(func=cmd_study)

    exp = sub.add_parser("export", help="export keystrokes in the field's formats")
    exp.add_argument("--format", required=True, choices=tuple(FORMATS))
    exp.add_argument("--out", required=True, metavar="DIR", help="a new (or empty) folder")
    exp.add_argument("--study", metavar="S", help="only this study's rows")
    exp.add_argument("--valid-only", action="store_true", help="leave out sections flagged invalid")
    add_data_dir(exp)
    add_json(exp)
    exp.set_defaults(func=cmd_export)


def cmd_study(args: argparse.Namespace) -> int:
    repo = StudyRepository(workbench(args).data_dir)
    if args.action in ("create", "new"):
        if args.action == "create":
            saved = repo.create(parse_yaml(_read(args.file)))
        else:
            conditions = [c.strip() for c in args.conditions.split(",") if c.strip()]
            saved = repo.create(
                draft_protocol(
                    args.study_id,
                    args.title,
                    conditions=conditions,
                    sentences_per_session=args.sentences,
                    seed=args.seed,
                )
            )
        emit(
            args, {"study_id": saved.study_id, "version": saved.version}, f"{saved.study_id} v{saved.version}"
        )
    elif args.action == "edit":
        saved, changed = repo.save_edit(args.study_id, _read(args.file))
        emit(args, {"study_id": saved.study_id, "version": saved.version, "changed": changed})
    elif args.action == "assign":
        a = assign(repo, args.study_id, args.participant_id)
        emit(
            args,
            {
                "study_id": a.study_id,
                "participant_id": a.participant_id,
                "condition": a.condition,
                "protocol_version": a.protocol_version,
            },
            f"{a.participant_id}: {a.condition}",
        )
    elif args.action == "show":
        protocol = repo.load(args.study_id, args.version)
        emit(args, {"version": protocol.version, **protocol.to_dict()})
    else:
        studies = overview(repo)
        emit(
            args,
            {"studies": studies},
            "\n".join(f"{s['study_id']} v{s['version']}: {s['title']} {s['participants']}" for s in studies)
            or "no studies yet",
        )
    return 0


def _read(path: str) -> str:
    try:
        return Path(path).read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read the protocol file {path}: {exc.__class__.__name__}") from None


def cmd_export(args: argparse.Namespace) -> int:
    report = export(
        workbench(args).lakehouse, args.format, args.out, study=args.study, valid_only=args.valid_only
    )
    emit(args, report)
    return 0
