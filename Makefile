# snnhw: `make example` sets everything up and runs the bundled example end to
# end; `make test` runs the test suite. Both create .venv on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-dev
OUT    := build/example
MODEL  := examples/mnist_small.onnx
DATA   := examples/mnist_sample.npz
BITS   ?= 8
STEPS  ?= 32
PAR    ?= 16
IMAGES ?= 20

GENERATE = $(BIN)/snnhw generate $(MODEL) --bits $(BITS) --calib $(DATA) --timesteps 300 \
	--test-steps $(STEPS) -P $(PAR) --test-data $(DATA) -o $(OUT)/hw

.PHONY: setup example test sim bitstream clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

# The bundled example: inspect, evaluate (ANN / float SNN / 8-bit SNN against
# time step), generate the RTL, and prove it bit-exact in cocotb + Verilator.
example: $(STAMP)
	mkdir -p $(OUT)
	$(BIN)/snnhw inspect $(MODEL)
	$(BIN)/snnhw evaluate $(MODEL) --data $(DATA) --timesteps 100 --bits $(BITS) \
	    --json $(OUT)/evaluate.json --plot $(OUT)/accuracy.png
	$(GENERATE)
	$(BIN)/snnhw sim $(OUT)/hw --images $(IMAGES)

# RTL verification of a generated build directory (default: the example's).
sim: $(STAMP)
	@test -d $(OUT)/hw || $(GENERATE)
	$(BIN)/snnhw sim $(OUT)/hw --images $(IMAGES)

# The bundled example on a board: ONNX -> board top -> Yosys / nextpnr-ecp5 / ecppack
# -> $(BOARD_OUT)/board/snn_board_top.bit (docs/boards.md). BOARD: ulx3s, icesugar-pro
# or a board .toml file.
BOARD     ?= ulx3s
BOARD_OUT ?= build/$(notdir $(basename $(BOARD)))
bitstream: $(STAMP)
	$(BIN)/snnhw generate $(MODEL) --bits $(BITS) --calib $(DATA) --timesteps 300 \
	    --test-steps $(STEPS) -P $(PAR) --test-data $(DATA) --board $(BOARD) -o $(BOARD_OUT)
	$(BIN)/snnhw synth $(BOARD_OUT) --board $(BOARD) --bitstream

test: $(STAMP)
	OPENBLAS_NUM_THREADS=1 $(BIN)/python -m pytest -q -n 2 --durations=15

clean:
	rm -rf build sim_build .pytest_cache .hypothesis
