// Command totp prints the current TOTP code (RFC 6238: 30 s, 6 digits,
// SHA-1) for a base32 secret, like an authenticator app or
// `oathtool --totp -b SECRET` would:
//
//	go run ./examples/totp JBSWY3DPEHPK3PXP
package main

import (
	"fmt"
	"os"
	"time"

	"github.com/pquerna/otp/totp"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: totp BASE32SECRET")
		os.Exit(2)
	}
	code, err := totp.GenerateCode(os.Args[1], time.Now())
	if err != nil {
		fmt.Fprintln(os.Stderr, "totp:", err)
		os.Exit(1)
	}
	fmt.Println(code)
}
