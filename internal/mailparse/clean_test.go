package mailparse

import "testing"

func TestCleanText(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "Hello\r\nUnlock: a\r\n", "Hello\nUnlock: a"},
		{"quoted lines dropped", "new\n> old\n  > older\nmore", "new\nmore"},
		{"signature dash space", "Unlock: a\n-- \nuser admin", "Unlock: a"},
		{"signature dash", "Unlock: a\n--\nuser admin", "Unlock: a"},
		{"not a signature", "Unlock: a\n-- b\nuser c", "Unlock: a\n-- b\nuser c"},
		{"on wrote", "new\n\nOn Mon, 3 Mar 2025, IT <it@x.example> wrote:\nUnlock: old", "new"},
		{"on wrote wrapped", "new\nOn Mon, 3 Mar 2025 at 09:12, IT Unlock <unlock@x.example>\nwrote:\nold", "new"},
		{"on without wrote", "On Monday my account was locked.\nuser a", "On Monday my account was locked.\nuser a"},
		{"name wrote above quote", "new\nJohn Smith wrote:\n> old", "new"},
		{"german", "neu\nAm 03.03.2025 um 10:00 schrieb IT <it@x.example>:\nalt", "neu"},
		{"french", "nouveau\nLe lun. 3 mars 2025 à 10:00, IT <it@x.example> a écrit :\nancien", "nouveau"},
		{"original message", "new\n-----Original Message-----\nFrom: x\nold", "new"},
		{"original message german", "neu\n-----Ursprüngliche Nachricht-----\nalt", "neu"},
		{"outlook block", "new\n\nFrom: IT <it@x.example>\nSent: Monday\nTo: y\nSubject: z\n\nold", "new"},
		{"outlook bold", "new\n*From:* IT\n*Sent:* Monday\nold", "new"},
		{"outlook german", "neu\nVon: IT\nGesendet: Montag\nalt", "neu"},
		{"gmail forward cut", "fwd\n---------- Forwarded message ---------\nFrom: A <a@x.example>\nDate: Mon\nSubject: s\n\nuser a", "fwd"},
		{"apple forward cut", "see below\n\nBegin forwarded message:\n\nFrom: A\nuser a", "see below"},
		{"thunderbird forward cut", "x\n-------- Forwarded Message --------\nuser a", "x"},
		{"bar-quoted lines dropped", "user b\n| user a\n  |user c", "user b"},
		{"from without sent kept", "From: me\nuser a", "From: me\nuser a"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := cleanText(tt.in); got != tt.want {
				t.Errorf("cleanText(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestHTMLToText(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"paragraphs", "<p>a</p><p>b</p>", "a\nb\n"},
		{"br", "a<br>b", "a\nb\n"},
		{"inline", "a <b>bold</b> c", "a bold c\n"},
		{"entities", "&lt;x&gt; &amp; &quot;y&quot; &eacute;", "<x> & \"y\" é\n"},
		{"style script head", "<html><head><title>t</title><style>.u{}</style></head><body><script>user x</script>body</body></html>", "body\n"},
		{"blockquote dropped", "new<blockquote>old</blockquote>", "new\n"},
		{"gmail signature dropped", `a<div class="gmail_signature">user admin</div>`, "a\n"},
		{"whitespace collapsed", "a\n   b\t c", "a b c\n"},
		{"pre kept", "<pre>a\n  b</pre>", "a\n  b\n"},
		{"list", "<ul><li>a</li><li>b</li></ul>", "a\nb\n"},
		{"comment", "a<!-- user x -->b", "ab\n"},
		{"display none", `a<span style="color:red; DISPLAY : none !important">user x</span>`, "a\n"},
		{"visibility hidden", `a<div style="visibility:hidden">user x</div>`, "a\n"},
		{"zero font size", `a<font style="font-size:0px">user x</font><span style="font-size: 0.0em">user y</span>`, "a\n"},
		{"zero height", `a<div style="max-height:0;overflow:hidden">user x</div>`, "a\n"},
		{"hidden attribute", `a<p hidden>user x</p>`, "a\n"},
		{"visible styles kept", `<span style="font-size:10px;display:inline">user x</span>`, "user x\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := htmlToText(tt.in); got != tt.want {
				t.Errorf("htmlToText(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
