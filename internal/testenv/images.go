package testenv

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
	"testing"
)

// PNG color types, as the IHDR chunk names them.
const (
	PNGGray      = 0
	PNGRGB       = 2
	PNGPaletted  = 3
	PNGGrayAlpha = 4
	PNGRGBA      = 6
)

// PNG returns a PNG declaring a width×height image of the given bit depth and color type.
// With pixels, it holds every row (filter byte and zero samples) compressed, a complete file:
// zeros compress about a thousandfold, so 4096×4096 in 16-bit RGBA (128 MiB decoded) is a file
// of about 130 KB. Without, it stops after the header (and palette), which is all a header
// check reads and which any decoder refuses as truncated.
func PNG(t testing.TB, width, height, depth, colorType int, pixels bool) []byte {
	t.Helper()
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(kind string, data []byte) {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(data)))
		b.Write(n[:])
		crc := crc32.NewIEEE()
		crc.Write([]byte(kind))
		crc.Write(data)
		b.WriteString(kind)
		b.Write(data)
		binary.BigEndian.PutUint32(n[:], crc.Sum32())
		b.Write(n[:])
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], uint32(width))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(height))
	ihdr[8], ihdr[9] = byte(depth), byte(colorType)
	chunk("IHDR", ihdr)
	if colorType == PNGPaletted {
		chunk("PLTE", []byte{0, 0, 0, 255, 255, 255})
	}
	if !pixels {
		return b.Bytes()
	}
	samples := map[int]int{PNGGray: 1, PNGRGB: 3, PNGPaletted: 1, PNGGrayAlpha: 2, PNGRGBA: 4}[colorType]
	rowBytes := 1 + (width*samples*depth+7)/8
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	row := make([]byte, rowBytes)
	for range height {
		if _, err := zw.Write(row); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	chunk("IDAT", z.Bytes())
	chunk("IEND", nil)
	return b.Bytes()
}

// JPEGHeader returns the start of a JFIF file declaring a width×height YCbCr image (4:4:4),
// baseline or progressive: all a header check reads; decoding it fails as truncated.
func JPEGHeader(width, height int, progressive bool) []byte {
	sof := byte(0xc0)
	if progressive {
		sof = 0xc2
	}
	out := []byte{0xff, 0xd8, 0xff, 0xe0, 0, 16, 'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0}
	out = append(out, 0xff, sof, 0, 17, 8, byte(height>>8), byte(height), byte(width>>8), byte(width), 3,
		1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0)
	return out
}
