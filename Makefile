# The course's entry points. Each target creates (or reuses) the virtual environment .venv.
#   make book   build the whole book to _build/html, executing every notebook
#   make test   run every test: unit tests, every notebook under nbval, the built book in Chromium
#   make browser  the built book's pages in Chromium; screenshots in _build/screenshots
#   make lab    open the notebooks in JupyterLab in the same environment
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Build with warnings as errors; --keep-going reports every warning before failing.
JB_FLAGS ?= -W -n --keep-going

.PHONY: env book test unit notebooks browser lab clean

env: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[book,test]'
	touch $@

book: env
	HUMANLIB_BOOK_BUILD=1 $(BIN)/jupyter-book build . --toc book/_toc.yml $(JB_FLAGS)
	@echo "The book is in _build/html/index.html"

# The test command of the README: the book is built first (cached), because the browser
# tests open the built pages; then unit tests and every notebook under nbval.
test: book
	$(BIN)/python -m pytest tests notebooks --nbval-lax -p no:cacheprovider

unit: env
	$(BIN)/python -m pytest tests -m "not browser"

notebooks: env
	$(BIN)/python -m pytest notebooks --nbval-lax

# Every page of the built book in headless Chromium at 1366x900 and 390x844 (tests/test_book_html.py);
# a full-page screenshot of each, in tiles, is left in _build/screenshots (a build artefact, not committed).
browser: book
	$(BIN)/python -m pytest tests/test_book_html.py -p no:cacheprovider -q

lab: env
	$(BIN)/jupyter lab notebooks/

clean:
	rm -rf _build
