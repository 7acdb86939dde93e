#!/bin/bash
# 220.video-processing's init.sh (SeBS contract: $1 = the package's function/ directory,
# $2 = verbose, $3 = target architecture). Puts a static ffmpeg for the target at
# function/ffmpeg/ffmpeg, where both languages' functions look first (SeBS downloads one
# here too): a Lambda or Azure sandbox has no ffmpeg. The binary comes from SEBS_FFMPEG or
# the npm package @ffmpeg-installer/linux-<arch> (see ../../_lib/ffmpeg.mjs).
set -euo pipefail
exec node ../../_lib/ffmpeg.mjs install "$1" "${3:-x64}"
