package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/leadwire/leadwire"
	"github.com/leadwire/leadwire/screen"
)

func channelUpdate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("channel update", "Changes how a channel's captures are screened for spam, and prints the channel. "+
		"Flags not given stay as they are; a running server sees the change within seconds.", stderr)
	dbPath := dbFlag(fs)
	id := fs.String("channel", "", "id of the channel (required)")
	screening := fs.String("screening", "", "on or off: off stores every capture unscreened")
	addressRate := fs.Int("address-rate", 0, fmt.Sprintf("captures an hour one address may send (0: the default, %d)", leadwire.DefaultAddressRate))
	channelBurst := fs.Int("channel-burst", 0, fmt.Sprintf("captures the channel takes at once (0: the default, %d)", leadwire.DefaultChannelBurst))
	channelRate := fs.Int("channel-rate", 0, fmt.Sprintf("captures a minute the channel takes after a burst (0: the default, %d)", leadwire.DefaultChannelRate))
	minFormTime := fs.Duration("min-form-time", 0, fmt.Sprintf("the least time a form is on screen when a person sends it (0: the default, %s)", leadwire.DefaultMinFormTime))
	var disable, enable stringList
	fs.Var(&disable, "disable", "a signal that stops counting on this channel; repeat for several: "+strings.Join(screen.Reasons, ", "))
	fs.Var(&enable, "enable", "a signal disabled before that counts again; repeat for several")
	captcha := fs.String("captcha", "", "require a CAPTCHA token of "+strings.Join(leadwire.CaptchaProviders, ", ")+", or none")
	captchaSecret := fs.String("captcha-secret", "", "the CAPTCHA provider's secret key for this site")
	captchaURL := fs.String("captcha-verify-url", "", "where tokens are verified (default: the provider's public endpoint)")
	if err := parse(fs, args, stdout, dbEnv); err != nil {
		return err
	}
	if *id == "" {
		return errors.New("--channel is required")
	}
	for _, r := range slices.Concat(disable, enable) {
		if !slices.Contains(screen.Reasons, r) {
			return fmt.Errorf("%q is not a signal; the signals are %s", r, strings.Join(screen.Reasons, ", "))
		}
	}
	return onStore(ctx, *dbPath, false, func(store store) error {
		ch, err := store.FindChannelByID(ctx, *id)
		if err != nil {
			return fmt.Errorf("--channel: %s", leadwire.ErrorMessage(err))
		}
		set := ch.Screening
		var bad error
		fs.Visit(func(f *flag.Flag) {
			switch f.Name {
			case "screening":
				switch *screening {
				case "on", "off":
					set.Off = *screening == "off"
				default:
					bad = fmt.Errorf("--screening is on or off, not %q", *screening)
				}
			case "address-rate":
				set.AddressRate = *addressRate
			case "channel-burst":
				set.ChannelBurst = *channelBurst
			case "channel-rate":
				set.ChannelRate = *channelRate
			case "min-form-time":
				set.MinFormTime = *minFormTime
			case "captcha":
				set.Captcha = strings.TrimPrefix(*captcha, "none")
			case "captcha-secret":
				set.CaptchaSecret = *captchaSecret
			case "captcha-verify-url":
				set.CaptchaVerifyURL = *captchaURL
			}
		})
		if bad != nil {
			return bad
		}
		for _, r := range disable {
			if !slices.Contains(set.Disabled, r) {
				set.Disabled = append(set.Disabled, r)
			}
		}
		set.Disabled = slices.DeleteFunc(set.Disabled, func(r string) bool { return slices.Contains(enable, r) })
		ch, err = store.UpdateChannel(ctx, ch.ID, leadwire.ChannelUpdate{Screening: &set})
		if err != nil {
			return err
		}
		return printJSON(stdout, ch)
	})
}
