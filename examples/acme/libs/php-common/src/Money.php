<?php

namespace Acme\Common;

final class Money
{
    public function __construct(public readonly int $cents, public readonly string $currency)
    {
    }
}
