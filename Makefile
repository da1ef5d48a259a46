.PHONY: run test lint fix demo bench
run:
	python3 tasks.py run
test:
	python3 tasks.py test
lint:
	python3 tasks.py lint
fix:
	.venv/bin/ruff check --fix . && .venv/bin/ruff format .
demo:
	.venv/bin/python -m flowtype_core demo --participants 8
bench:
	for b in bench/bench_*.py; do .venv/bin/python $$b; done
