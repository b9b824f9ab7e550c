// Package webauthntest is a software WebAuthn authenticator for tests that have no browser:
// ES256 keys, "none" attestation, answers in the JSON that browsers' toJSON() produces. The
// browser tests use Chromium's own virtual authenticator instead.
package webauthntest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"

	"github.com/fxamacker/cbor/v2"
)

// Authenticator answers passkey requests for one origin, as a platform authenticator that
// verifies its user.
type Authenticator struct {
	Origin string // e.g. https://roster.example
	RPID   string // e.g. roster.example
}

// Credential is a key pair the authenticator made, with its user handle and counter.
// Copying a Credential is cloning the key: both copies sign, each with its own counter.
type Credential struct {
	ID         []byte
	Key        *ecdsa.PrivateKey
	UserHandle []byte
	Counter    uint32
}

var b64 = base64.RawURLEncoding

// options is what the authenticator reads of the options JSON ({"publicKey": …}).
type options struct {
	PublicKey struct {
		Challenge string `json:"challenge"`
		RPID      string `json:"rpId"`
		RP        struct {
			ID string `json:"id"`
		} `json:"rp"`
		User struct {
			ID string `json:"id"`
		} `json:"user"`
	} `json:"publicKey"`
}

func (a *Authenticator) clientData(typ, challenge string) []byte {
	b, _ := json.Marshal(map[string]any{"type": typ, "challenge": challenge, "origin": a.Origin, "crossOrigin": false})
	return b
}

// Create answers navigator.credentials.create's options: a new credential.
func (a *Authenticator) Create(opts []byte) ([]byte, *Credential, error) {
	var o options
	if err := json.Unmarshal(opts, &o); err != nil {
		return nil, nil, err
	}
	handle, err := b64.DecodeString(o.PublicKey.User.ID)
	if err != nil {
		return nil, nil, fmt.Errorf("user id: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	id := make([]byte, 16)
	_, _ = rand.Read(id)
	c := &Credential{ID: id, Key: key, UserHandle: handle}
	pub, err := key.PublicKey.Bytes() // 0x04 | X | Y
	if err != nil {
		return nil, nil, err
	}
	x, y := pub[1:33], pub[33:65]
	cose, err := cbor.Marshal(map[int]any{1: 2, 3: -7, -1: 1, -2: x, -3: y})
	if err != nil {
		return nil, nil, err
	}
	auth := a.authData(0x01|0x04|0x40, 0)
	auth = append(auth, make([]byte, 16)...) // AAGUID
	auth = binary.BigEndian.AppendUint16(auth, uint16(len(id)))
	auth = append(auth, id...)
	auth = append(auth, cose...)
	att, err := cbor.Marshal(map[string]any{"fmt": "none", "attStmt": map[string]any{}, "authData": auth})
	if err != nil {
		return nil, nil, err
	}
	out, err := json.Marshal(map[string]any{
		"id": b64.EncodeToString(id), "rawId": b64.EncodeToString(id), "type": "public-key", "authenticatorAttachment": "platform",
		"response": map[string]any{
			"clientDataJSON":    b64.EncodeToString(a.clientData("webauthn.create", o.PublicKey.Challenge)),
			"attestationObject": b64.EncodeToString(att), "transports": []string{"internal"},
		},
		"clientExtensionResults": map[string]any{},
	})
	return out, c, err
}

// Get answers navigator.credentials.get's options with c, moving its counter forward.
func (a *Authenticator) Get(opts []byte, c *Credential) ([]byte, error) {
	var o options
	if err := json.Unmarshal(opts, &o); err != nil {
		return nil, err
	}
	c.Counter++
	auth := a.authData(0x01|0x04, c.Counter)
	cd := a.clientData("webauthn.get", o.PublicKey.Challenge)
	h := sha256.Sum256(cd)
	digest := sha256.Sum256(append(append([]byte{}, auth...), h[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, c.Key, digest[:])
	if err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{
		"id": b64.EncodeToString(c.ID), "rawId": b64.EncodeToString(c.ID), "type": "public-key", "authenticatorAttachment": "platform",
		"response": map[string]any{
			"clientDataJSON": b64.EncodeToString(cd), "authenticatorData": b64.EncodeToString(auth),
			"signature": b64.EncodeToString(sig), "userHandle": b64.EncodeToString(c.UserHandle),
		},
		"clientExtensionResults": map[string]any{},
	})
}

// authData is the start of authenticator data: the RP ID's hash, flags and counter.
func (a *Authenticator) authData(flags byte, counter uint32) []byte {
	h := sha256.Sum256([]byte(a.RPID))
	out := append(h[:], flags)
	return binary.BigEndian.AppendUint32(out, counter)
}
