package config

import (
	"errors"
	"fmt"
)

// problems collects every validation error, each naming file, field and value.
type problems struct{ errs []error }

func (p *problems) add(file, field, value, msg string) {
	switch {
	case field == "":
		p.errs = append(p.errs, fmt.Errorf("%s: %s", file, msg))
	case value == "":
		p.errs = append(p.errs, fmt.Errorf("%s: %s: %s", file, field, msg))
	default:
		p.errs = append(p.errs, fmt.Errorf("%s: %s: %q %s", file, field, value, msg))
	}
}

func (p *problems) err() error { return errors.Join(p.errs...) }
