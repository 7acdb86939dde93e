// A baseline JPEG decoder whose output matches libjpeg(-turbo), the decoder
// behind Pillow, sample for sample, for the images this benchmark generates
// (8-bit sequential Huffman, 4:4:4 colour or greyscale).
//
// Why not only jpeg-js: its IDCT and colour conversion round differently (up
// to ±3 per pixel), and the seeded ResNet of this benchmark is sensitive
// enough that such differences flip classes, so Node.js could not be
// validated against torch's golden classes. The arithmetic below follows the
// Independent JPEG Group's accurate integer IDCT (jidctint.c, "islow", the
// libjpeg default) and YCbCr->RGB tables (jdcolor.c). Images it does not
// cover (progressive, arithmetic-coded, subsampled chroma) throw
// `UnsupportedJpeg` and the caller falls back to jpeg-js.
'use strict'

class UnsupportedJpeg extends Error {}

// Zigzag index -> natural (row-major) index.
const ZIGZAG = Int32Array.from([
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
  35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55,
  62, 63,
])

// --- jidctint.c, 8-bit samples: CONST_BITS 13, PASS1_BITS 2.
const CONST_BITS = 13
const PASS1_BITS = 2
const FIX_0_298631336 = 2446
const FIX_0_390180644 = 3196
const FIX_0_541196100 = 4433
const FIX_0_765366865 = 6270
const FIX_0_899976223 = 7373
const FIX_1_175875602 = 9633
const FIX_1_501321110 = 12299
const FIX_1_847759065 = 15137
const FIX_1_961570560 = 16069
const FIX_2_053119869 = 16819
const FIX_2_562915447 = 20995
const FIX_3_072711026 = 25172

// libjpeg's post-IDCT range limit (jdmaster.c): index = value & 1023, which
// clamps sane values to 0..255 around the +128 level shift (and wraps garbage
// the way libjpeg does).
const IDCT_LIMIT = new Uint8Array(1024)
for (let i = 0; i < 1024; i++) IDCT_LIMIT[i] = i < 128 ? i + 128 : i < 512 ? 255 : i < 896 ? 0 : i - 896

// Values stay far below 2^31, so 32-bit integer shifts equal C's JLONG arithmetic.
const descale = (x, n) => (x + (1 << (n - 1))) >> n

/** Dequantise and inverse-DCT one block (coefficients in natural order) into `out` at `offset`, row stride `stride`. */
function idctIslow(coef, qt, ws, out, offset, stride) {
  let tmp0, tmp1, tmp2, tmp3, tmp10, tmp11, tmp12, tmp13, z1, z2, z3, z4, z5
  // Pass 1: columns -> workspace, scaled up by PASS1_BITS.
  for (let c = 0; c < 8; c++) {
    if (
      coef[8 + c] === 0 && coef[16 + c] === 0 && coef[24 + c] === 0 && coef[32 + c] === 0 &&
      coef[40 + c] === 0 && coef[48 + c] === 0 && coef[56 + c] === 0
    ) {
      const dc = (coef[c] * qt[c]) << PASS1_BITS
      for (let r = 0; r < 8; r++) ws[r * 8 + c] = dc
      continue
    }
    z2 = coef[16 + c] * qt[16 + c]
    z3 = coef[48 + c] * qt[48 + c]
    z1 = (z2 + z3) * FIX_0_541196100
    tmp2 = z1 + z3 * -FIX_1_847759065
    tmp3 = z1 + z2 * FIX_0_765366865
    z2 = coef[c] * qt[c]
    z3 = coef[32 + c] * qt[32 + c]
    tmp0 = (z2 + z3) << CONST_BITS
    tmp1 = (z2 - z3) << CONST_BITS
    tmp10 = tmp0 + tmp3
    tmp13 = tmp0 - tmp3
    tmp11 = tmp1 + tmp2
    tmp12 = tmp1 - tmp2
    tmp3 = coef[8 + c] * qt[8 + c]
    tmp2 = coef[24 + c] * qt[24 + c]
    tmp1 = coef[40 + c] * qt[40 + c]
    tmp0 = coef[56 + c] * qt[56 + c]
    z4 = tmp1 + tmp3
    z3 = tmp0 + tmp2
    z2 = tmp1 + tmp2
    z1 = tmp0 + tmp3
    z5 = (z3 + z4) * FIX_1_175875602
    tmp3 = tmp3 * FIX_1_501321110
    tmp2 = tmp2 * FIX_3_072711026
    tmp1 = tmp1 * FIX_2_053119869
    tmp0 = tmp0 * FIX_0_298631336
    z4 = z4 * -FIX_0_390180644 + z5
    z3 = z3 * -FIX_1_961570560 + z5
    z1 = z1 * -FIX_0_899976223
    z2 = z2 * -FIX_2_562915447
    tmp3 += z1 + z4
    tmp2 += z2 + z3
    tmp1 += z2 + z4
    tmp0 += z1 + z3
    const n = CONST_BITS - PASS1_BITS
    ws[c] = descale(tmp10 + tmp3, n)
    ws[8 + c] = descale(tmp11 + tmp2, n)
    ws[16 + c] = descale(tmp12 + tmp1, n)
    ws[24 + c] = descale(tmp13 + tmp0, n)
    ws[32 + c] = descale(tmp13 - tmp0, n)
    ws[40 + c] = descale(tmp12 - tmp1, n)
    ws[48 + c] = descale(tmp11 - tmp2, n)
    ws[56 + c] = descale(tmp10 - tmp3, n)
  }
  // Pass 2: rows -> samples.
  const n = CONST_BITS + PASS1_BITS + 3
  for (let r = 0; r < 8; r++) {
    const w = r * 8
    const o = offset + r * stride
    if (ws[w + 1] === 0 && ws[w + 2] === 0 && ws[w + 3] === 0 && ws[w + 4] === 0 && ws[w + 5] === 0 && ws[w + 6] === 0 && ws[w + 7] === 0) {
      const v = IDCT_LIMIT[descale(ws[w], PASS1_BITS + 3) & 1023]
      for (let c = 0; c < 8; c++) out[o + c] = v
      continue
    }
    z2 = ws[w + 2]
    z3 = ws[w + 6]
    z1 = (z2 + z3) * FIX_0_541196100
    tmp2 = z1 + z3 * -FIX_1_847759065
    tmp3 = z1 + z2 * FIX_0_765366865
    tmp0 = (ws[w] + ws[w + 4]) << CONST_BITS
    tmp1 = (ws[w] - ws[w + 4]) << CONST_BITS
    tmp10 = tmp0 + tmp3
    tmp13 = tmp0 - tmp3
    tmp11 = tmp1 + tmp2
    tmp12 = tmp1 - tmp2
    tmp3 = ws[w + 1]
    tmp2 = ws[w + 3]
    tmp1 = ws[w + 5]
    tmp0 = ws[w + 7]
    z4 = tmp1 + tmp3
    z3 = tmp0 + tmp2
    z2 = tmp1 + tmp2
    z1 = tmp0 + tmp3
    z5 = (z3 + z4) * FIX_1_175875602
    tmp3 = tmp3 * FIX_1_501321110
    tmp2 = tmp2 * FIX_3_072711026
    tmp1 = tmp1 * FIX_2_053119869
    tmp0 = tmp0 * FIX_0_298631336
    z4 = z4 * -FIX_0_390180644 + z5
    z3 = z3 * -FIX_1_961570560 + z5
    z1 = z1 * -FIX_0_899976223
    z2 = z2 * -FIX_2_562915447
    tmp3 += z1 + z4
    tmp2 += z2 + z3
    tmp1 += z2 + z4
    tmp0 += z1 + z3
    out[o] = IDCT_LIMIT[descale(tmp10 + tmp3, n) & 1023]
    out[o + 1] = IDCT_LIMIT[descale(tmp11 + tmp2, n) & 1023]
    out[o + 2] = IDCT_LIMIT[descale(tmp12 + tmp1, n) & 1023]
    out[o + 3] = IDCT_LIMIT[descale(tmp13 + tmp0, n) & 1023]
    out[o + 4] = IDCT_LIMIT[descale(tmp13 - tmp0, n) & 1023]
    out[o + 5] = IDCT_LIMIT[descale(tmp12 - tmp1, n) & 1023]
    out[o + 6] = IDCT_LIMIT[descale(tmp11 - tmp2, n) & 1023]
    out[o + 7] = IDCT_LIMIT[descale(tmp10 - tmp3, n) & 1023]
  }
}

// --- jdcolor.c YCbCr -> RGB tables (SCALEBITS 16).
const SCALEBITS = 16
const ONE_HALF = 1 << (SCALEBITS - 1)
const FIX = (x) => Math.trunc(x * (1 << SCALEBITS) + 0.5)
const CR_R = new Int32Array(256)
const CB_B = new Int32Array(256)
const CR_G = new Float64Array(256)
const CB_G = new Float64Array(256)
for (let i = 0; i < 256; i++) {
  const x = i - 128
  CR_R[i] = Math.floor((FIX(1.402) * x + ONE_HALF) / (1 << SCALEBITS))
  CB_B[i] = Math.floor((FIX(1.772) * x + ONE_HALF) / (1 << SCALEBITS))
  CR_G[i] = -FIX(0.71414) * x
  CB_G[i] = -FIX(0.34414) * x + ONE_HALF
}
const clamp255 = (v) => (v < 0 ? 0 : v > 255 ? 255 : v)

// --- Huffman tables (JPEG Annex C canonical codes; decoded bit by bit with maxcode/valptr, Annex F.2.2.3).
function buildHuffman(counts, symbols) {
  const maxcode = new Int32Array(18).fill(-1)
  const valptr = new Int32Array(17)
  const mincode = new Int32Array(17)
  let code = 0
  let k = 0
  for (let len = 1; len <= 16; len++) {
    valptr[len] = k
    mincode[len] = code
    code += counts[len - 1]
    k += counts[len - 1]
    maxcode[len] = counts[len - 1] ? code - 1 : -1
    code <<= 1
  }
  maxcode[17] = 0x7fffffff
  return { maxcode, valptr, mincode, symbols }
}

/**
 * Decodes a JPEG into `{ width, height, data }` with `data` RGB, 3 bytes per
 * pixel. Throws `UnsupportedJpeg` for JPEG variants outside its scope.
 */
function decode(buf) {
  const bytes = buf instanceof Uint8Array ? buf : new Uint8Array(buf)
  let pos = 0
  const u16 = () => {
    const v = (bytes[pos] << 8) | bytes[pos + 1]
    pos += 2
    return v
  }
  if (bytes[0] !== 0xff || bytes[1] !== 0xd8) throw new Error('not a JPEG file (no SOI marker)')
  pos = 2

  const qts = []
  const dcTables = []
  const acTables = []
  let frame = null
  let restartInterval = 0
  let adobeTransform = -1
  let scanned = false

  for (;;) {
    if (pos >= bytes.length) throw new Error('JPEG ended before EOI')
    if (bytes[pos] !== 0xff) throw new Error(`JPEG marker expected at byte ${pos}`)
    while (bytes[pos] === 0xff) pos++
    const marker = bytes[pos++]
    if (marker === 0xd9) break // EOI
    if (marker >= 0xd0 && marker <= 0xd7) continue
    const len = u16()
    const end = pos + len - 2
    switch (marker) {
      case 0xdb: // DQT
        while (pos < end) {
          const pq = bytes[pos] >> 4
          const tq = bytes[pos++] & 15
          const t = new Int32Array(64)
          for (let i = 0; i < 64; i++) t[ZIGZAG[i]] = pq ? u16() : bytes[pos++]
          qts[tq] = t
        }
        break
      case 0xc4: // DHT
        while (pos < end) {
          const tc = bytes[pos] >> 4
          const th = bytes[pos++] & 15
          const counts = bytes.subarray(pos, pos + 16)
          pos += 16
          let total = 0
          for (let i = 0; i < 16; i++) total += counts[i]
          const table = buildHuffman(counts, bytes.slice(pos, pos + total))
          pos += total
          ;(tc === 0 ? dcTables : acTables)[th] = table
        }
        break
      case 0xc0: // SOF0 baseline
      case 0xc1: {
        // SOF1 extended sequential, Huffman
        const precision = bytes[pos++]
        if (precision !== 8) throw new UnsupportedJpeg(`${precision}-bit JPEG samples`)
        const height = u16()
        const width = u16()
        const n = bytes[pos++]
        const components = []
        for (let i = 0; i < n; i++) {
          components.push({ id: bytes[pos], h: bytes[pos + 1] >> 4, v: bytes[pos + 1] & 15, tq: bytes[pos + 2] })
          pos += 3
        }
        if (height === 0) throw new UnsupportedJpeg('JPEG with the height in a DNL marker')
        if (components.some((c) => c.h !== 1 || c.v !== 1)) throw new UnsupportedJpeg('subsampled chroma')
        if (n !== 1 && n !== 3) throw new UnsupportedJpeg(`${n} colour components`)
        const bw = Math.ceil(width / 8)
        const bh = Math.ceil(height / 8)
        for (const c of components) {
          c.stride = bw * 8
          c.plane = new Uint8Array(bw * 8 * bh * 8)
          c.pred = 0
        }
        frame = { width, height, bw, bh, components }
        break
      }
      case 0xdd: // DRI
        restartInterval = u16()
        break
      case 0xee: // APP14 Adobe: tells whether 3-component data is YCbCr or RGB
        if (len >= 14 && String.fromCharCode(...bytes.subarray(pos, pos + 5)) === 'Adobe') adobeTransform = bytes[pos + 11]
        break
      case 0xda: {
        // SOS
        if (!frame) throw new Error('JPEG scan before frame header')
        const ns = bytes[pos++]
        const comps = []
        for (let i = 0; i < ns; i++) {
          const comp = frame.components.find((c) => c.id === bytes[pos])
          if (!comp) throw new Error('JPEG scan names an unknown component')
          comp.dc = dcTables[bytes[pos + 1] >> 4]
          comp.ac = acTables[bytes[pos + 1] & 15]
          comp.qt = qts[comp.tq]
          if (!comp.dc || !comp.ac || !comp.qt) throw new Error('JPEG scan uses a missing Huffman or quantisation table')
          comps.push(comp)
          pos += 2
        }
        pos = end
        pos = decodeScan(bytes, pos, frame, comps, restartInterval)
        scanned = true
        continue
      }
      default:
        if ((marker >= 0xc2 && marker <= 0xcf) && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
          throw new UnsupportedJpeg(`JPEG frame type 0x${marker.toString(16)} (progressive, lossless or arithmetic-coded)`)
        }
      // APPn, COM and the like: skipped.
    }
    pos = end
  }
  if (!frame || !scanned) throw new Error('JPEG without image data')
  if (frame.components.length === 3 && frame.components.some((c) => !c.scanned)) throw new Error('JPEG ended before every colour component was decoded')

  const { width, height, components } = frame
  const data = new Uint8Array(width * height * 3)
  if (components.length === 1) {
    const { plane, stride } = components[0]
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const v = plane[y * stride + x]
        const o = (y * width + x) * 3
        data[o] = v
        data[o + 1] = v
        data[o + 2] = v
      }
    }
  } else {
    const [c0, c1, c2] = components
    const stride = c0.stride
    // libjpeg: 3 components are YCbCr unless an Adobe marker says transform 0 (RGB).
    const rgb = adobeTransform === 0
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const i = y * stride + x
        const o = (y * width + x) * 3
        const Y = c0.plane[i]
        const cb = c1.plane[i]
        const cr = c2.plane[i]
        if (rgb) {
          data[o] = Y
          data[o + 1] = cb
          data[o + 2] = cr
        } else {
          data[o] = clamp255(Y + CR_R[cr])
          data[o + 1] = clamp255(Y + Math.floor((CB_G[cb] + CR_G[cr]) / (1 << SCALEBITS)))
          data[o + 2] = clamp255(Y + CB_B[cb])
        }
      }
    }
  }
  return { width, height, data }
}

/** Decodes one sequential scan; returns the position after its entropy-coded data. */
function decodeScan(bytes, pos, frame, comps, restartInterval) {
  let bitBuf = 0
  let bitCount = 0
  let hitMarker = false
  const readBit = () => {
    if (bitCount === 0) {
      // Past a marker libjpeg feeds zeros (and warns); so do we.
      if (hitMarker || pos >= bytes.length) {
        bitBuf = 0
      } else {
        bitBuf = bytes[pos]
        if (bitBuf === 0xff) {
          const next = bytes[pos + 1]
          if (next === 0) pos += 2
          else {
            hitMarker = true
            bitBuf = 0
          }
        } else pos++
      }
      bitCount = 8
    }
    bitCount--
    return (bitBuf >> bitCount) & 1
  }
  const receive = (n) => {
    let v = 0
    for (let i = 0; i < n; i++) v = (v << 1) | readBit()
    return v
  }
  const extend = (v, t) => (t === 0 ? 0 : v < 1 << (t - 1) ? v - (1 << t) + 1 : v)
  const decodeHuff = (table) => {
    let code = readBit()
    let len = 1
    while (code > table.maxcode[len]) {
      code = (code << 1) | readBit()
      len++
      if (len > 16) throw new Error('corrupt JPEG Huffman data')
    }
    return table.symbols[table.valptr[len] + code - table.mincode[len]]
  }

  const coef = new Int32Array(64)
  const ws = new Int32Array(64)
  const decodeBlock = (comp, bx, by) => {
    coef.fill(0)
    const t = decodeHuff(comp.dc)
    comp.pred += extend(receive(t), t)
    coef[0] = comp.pred
    for (let k = 1; k < 64; ) {
      const rs = decodeHuff(comp.ac)
      const r = rs >> 4
      const s = rs & 15
      if (s === 0) {
        if (r !== 15) break // EOB
        k += 16
        continue
      }
      k += r
      if (k > 63) break
      coef[ZIGZAG[k]] = extend(receive(s), s)
      k++
    }
    idctIslow(coef, comp.qt, ws, comp.plane, by * 8 * comp.stride + bx * 8, comp.stride)
  }

  // Non-interleaved (one component): blocks cover only the image; interleaved: whole MCUs.
  const single = comps.length === 1
  const cols = single ? Math.ceil(frame.width / 8) : frame.bw
  const rows = single ? Math.ceil(frame.height / 8) : frame.bh
  const total = cols * rows
  for (const c of comps) {
    c.pred = 0
    c.scanned = true
  }
  for (let m = 0; m < total; m++) {
    if (restartInterval && m > 0 && m % restartInterval === 0) {
      // Restart marker: byte-align, skip RSTn, reset the DC predictions.
      bitCount = 0
      hitMarker = false
      while (pos < bytes.length && !(bytes[pos] === 0xff && bytes[pos + 1] >= 0xd0 && bytes[pos + 1] <= 0xd7)) pos++
      pos += 2
      for (const c of comps) c.pred = 0
    }
    const bx = m % cols
    const by = (m - bx) / cols
    for (const c of comps) decodeBlock(c, bx, by)
  }
  // Skip to the next marker (past any padding of the entropy-coded segment).
  while (pos < bytes.length && !(bytes[pos] === 0xff && bytes[pos + 1] !== 0 && !(bytes[pos + 1] >= 0xd0 && bytes[pos + 1] <= 0xd7))) pos++
  return pos
}

module.exports = { decode, UnsupportedJpeg }
