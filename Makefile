# tenantlog: `make run` runs the main job, `make test` the whole suite.
# Both install missing Debian packages first (`make deps`).

BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo

# Debian packages the build, the tests and the main job need.
DEB_PACKAGES := gcc make cmake pkg-config clang-format \
	libyaml-dev libsqlite3-dev libssl-dev libjansson-dev libuv1-dev \
	libcmocka-dev libzstd-dev zlib1g-dev zstd gzip sqlite3 python3 \
	bsdutils logrotate

.PHONY: all deps build run test test-asan test-tsan format-check clean

all: build

deps:
	@missing=$$(for p in $(DEB_PACKAGES); do \
	    dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null \
	        | grep -q 'install ok installed' || echo $$p; done); \
	if [ -z "$$missing" ]; then exit 0; fi; \
	echo "deps: missing Debian packages:" $$missing; \
	if [ "$$(id -u)" -ne 0 ]; then \
	    echo "deps: run as root: apt-get install -y" $$missing; exit 1; \
	fi; \
	export DEBIAN_FRONTEND=noninteractive; \
	apt-get update -qq && apt-get install -y -qq --no-install-recommends \
	    $$missing

build: deps
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)
	cmake --build $(BUILD) -j$(JOBS)

run: build
	./scripts/main-job.sh $(BUILD)

test: build
	ctest --test-dir $(BUILD) --output-on-failure -j$(JOBS)

test-asan: deps
	$(MAKE) test BUILD=build-asan \
	    CMAKE_FLAGS="-DCMAKE_BUILD_TYPE=Debug -DTL_SANITIZE=address,undefined"

test-tsan: deps
	$(MAKE) test BUILD=build-tsan \
	    CMAKE_FLAGS="-DCMAKE_BUILD_TYPE=Debug -DTL_SANITIZE=thread"

format-check:
	clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-asan build-tsan var
