package web

import (
	"fmt"
	"html/template"
	"strings"

	"rsc.io/qr"
)

// qrQuiet is the blank margin around a QR code, in modules (ISO 18004
// asks for four).
const qrQuiet = 4

// qrSVG renders text as a QR code in inline SVG, drawn here: no image
// service, no script, nothing the page's Content-Security-Policy refuses.
// The markup is built from the code's modules only, so it is safe HTML.
func qrSVG(text string) (template.HTML, error) {
	c, err := qr.Encode(text, qr.M)
	if err != nil {
		return "", fmt.Errorf("web: qr code: %w", err)
	}
	n := c.Size + 2*qrQuiet
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="qr" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="QR code of the secret" shape-rendering="crispEdges">`,
		n, n, 4*n, 4*n)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="`, n, n)
	for y := range c.Size {
		for x := range c.Size {
			if c.Black(x, y) {
				fmt.Fprintf(&b, "M%d %dh1v1h-1z", x+qrQuiet, y+qrQuiet)
			}
		}
	}
	b.WriteString(`"/></svg>`)
	return template.HTML(b.String()), nil
}
